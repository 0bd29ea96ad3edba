//! What the provider remembers between requests, and how it forgets.
//!
//! Links, so that a replay or a revocation reaches everything it must:
//! a code knows the grant it was exchanged for; a grant knows every access and
//! refresh token issued under it; every token knows its grant.
//!
//! Memory stays bounded, whatever clients do: codes, pending consent pages and
//! tokens are purged when they expire (each kind has one lifetime, so a FIFO queue
//! holds them in expiry order), and every kind has a hard cap.
//!
//! Caps are fair shares. One provider may serve a whole class through SSH
//! tunnels, where everyone arrives from 127.0.0.1, so a cap for the whole
//! provider would let one student's runaway loop push out everyone else's
//! state. Each record therefore belongs to a party the provider can tell apart
//! — a consent page or a device authorization to its client, a grant to its
//! client/user pair — and each party has its own cap ([`MAX_PENDING_PER_CLIENT`],
//! [`MAX_DEVICES_PER_CLIENT`], [`MAX_GRANTS_PER_PAIR`]), past which only its own
//! records go. The caps for the whole provider ([`MAX_PENDING`],
//! [`MAX_DEVICES`], [`MAX_GRANTS`], [`MAX_TOKENS`]) bound memory when many
//! parties are busy at once; past them a record of the party holding the most
//! goes, never one of a quieter party. Within a party the record that goes is
//! the oldest of its newer half, not its oldest: a flood from inside a party
//! (a loop sharing `lab-public` with the class) churns through its own newest
//! records, and what the party held before the flood outlives it (see
//! [`Shares::victim`]).
//! A record removed early (a used consent page, a revoked or evicted token) leaves
//! its queue entry behind; such entries are dropped once they outnumber the live
//! records (see [`compact`]), so a queue never grows past about twice its map.

use std::collections::{HashMap, VecDeque};
use std::hash::Hash;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;

use crate::config::Scopes;
use crate::secrets::{Digest, digest, new_id, new_secret, new_user_code, random_bytes};

/// Large enough that a class of hundreds of students, all logging in as alice
/// with the same client, never sees a token revoked while it is still in use
/// (past it, a new grant outlives 5,000 newer ones, and the older half stays);
/// a grant with its two tokens takes well under a kilobyte.
pub const MAX_GRANTS_PER_PAIR: usize = 10_000;
/// Per grant: access tokens still valid, and rotated-out refresh tokens remembered
/// for reuse detection.
pub const MAX_TOKENS_PER_GRANT: usize = 100;
/// Grants held at once, all pairs together; past it, the pair holding the most
/// loses one.
pub const MAX_GRANTS: usize = 50_000;
/// Access and refresh tokens held at once, all grants together; past it, the
/// pair holding the most grants loses one.
pub const MAX_TOKENS: usize = 200_000;
/// Consent pages waiting for their form, per client: an unfinished
/// `GET /authorize` loop pushes out only its own client's newer pages.
pub const MAX_PENDING_PER_CLIENT: usize = 10_000;
/// Consent pages waiting, all clients together; past it, the client with the
/// most loses one.
pub const MAX_PENDING: usize = 40_000;
/// Codes held at once, used or not: a class issues far fewer within a code's
/// lifetime, but a load test can issue thousands a second, and without a cap
/// they would all be held for a minute. Past it, the client/user pair holding
/// the most loses one.
pub const MAX_CODES: usize = 20_000;
/// Codes per client/user pair: a loop logging in again and again pushes out
/// only its own pair's newer codes.
pub const MAX_CODES_PER_PAIR: usize = 10_000;
/// Expired tokens are remembered this long, to tell "expired" from "unknown".
pub const EXPIRED_GRACE_MS: u64 = 10 * 60 * 1000;
/// Device authorizations (RFC 8628) per client.
pub const MAX_DEVICES_PER_CLIENT: usize = 10_000;
/// Device authorizations held at once, all clients together; past it, the
/// client with the most loses one.
pub const MAX_DEVICES: usize = 40_000;
/// The user code space is cut into this many slices by a keyed hash that
/// nobody outside the provider can compute (RFC 8628 §5.1).
pub const USER_CODE_SLICES: usize = 1024;
/// Wrong user codes accepted per slice per minute: past it, entries that fall
/// in that slice are refused unchecked until its minute is over. A flood of
/// guesses locks only the slices it fills, so another person's right code
/// almost always still goes through; guessing as a whole stays bounded at
/// `USER_CODE_SLICES * MAX_WRONG_USER_CODES_PER_SLICE` a minute.
pub const MAX_WRONG_USER_CODES_PER_SLICE: u32 = 20;

pub type GrantId = u64;
pub type FlowId = u64;

/// An authorization request waiting on the consent page.
#[derive(Clone, Debug)]
pub struct Pending {
    pub client: usize,
    pub redirect_uri: String,
    /// Whether the authorization request named it (RFC 6749 §4.1.3 then requires it again).
    pub redirect_uri_sent: bool,
    pub state: Option<String>,
    pub scope: Scopes,
    pub challenge: Option<String>,
    /// OpenID Connect Core 1.0 §3.1.2.1: echoed in the ID token.
    pub nonce: Option<String>,
    pub flow: FlowId,
    pub expires_at: u64,
}

/// What an unused code was issued for (RFC 6749 §4.1.3 checks it on exchange).
#[derive(Clone, Debug)]
pub struct CodeDetails {
    pub client: usize,
    pub user: usize,
    pub redirect_uri: String,
    /// Whether the authorization request named it (RFC 6749 §4.1.3 then requires it again).
    pub redirect_uri_sent: bool,
    pub scope: Scopes,
    pub challenge: Option<String>,
    /// OpenID Connect Core 1.0 §3.1.2.1: echoed in the ID token.
    pub nonce: Option<String>,
    /// When the user logged in (milliseconds): the ID token's `auth_time`.
    pub auth_time: u64,
    pub flow: FlowId,
}

#[derive(Debug)]
pub enum CodeState {
    Unused(Box<CodeDetails>),
    /// Exchanged already: kept until expiry so that a replay can revoke the
    /// grant, with what it was issued for, so that only a replay by its own
    /// client (same redirect URI, right verifier) does (RFC 9700 §4.5).
    Used {
        grant: GrantId,
        details: Box<CodeDetails>,
    },
}

/// Where a device authorization stands (RFC 8628 §3.5).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DeviceState {
    /// Nobody has entered the user code and decided yet: `authorization_pending`.
    Pending,
    /// This user approved: the next poll gets tokens.
    Approved(usize),
    /// The person denied: `access_denied`.
    Denied,
    /// Tokens were issued once; the device code is spent.
    Spent,
}

/// A device authorization request (RFC 8628 §3.1–3.2), kept by the digest of
/// its device code.
#[derive(Debug)]
pub struct Device {
    pub client: usize,
    pub scope: Scopes,
    pub flow: FlowId,
    /// The user code, normalized: eight letters, no dash.
    pub user_code: String,
    pub expires_at: u64,
    /// The polling interval now, in milliseconds: 5 s, plus 5 s per `slow_down` (§3.5).
    pub interval_ms: u64,
    /// When the client last polled, to tell when it polls too fast.
    pub last_poll: Option<u64>,
    pub state: DeviceState,
}

#[derive(Debug)]
pub struct Grant {
    pub client: usize,
    pub user: usize,
    pub scope: Scopes,
    pub flow: FlowId,
    /// When the user logged in (milliseconds): every ID token of the grant
    /// carries it (OpenID Connect Core 1.0 §12.2).
    pub auth_time: u64,
    pub access: VecDeque<Digest>,
    pub refresh: VecDeque<Digest>,
    /// The code it came from, once that code is only remembered for replays.
    pub code: Option<Digest>,
}

#[derive(Debug)]
pub struct Access {
    pub grant: GrantId,
    pub scope: Scopes,
    pub expires_at: u64,
    pub revoked: bool,
    /// Token bucket for the API rate limit: tokens left, and when it was last filled.
    pub bucket: (f64, u64),
}

#[derive(Debug)]
pub struct Refresh {
    pub grant: GrantId,
    /// False once rotated out: using it again is a sign of theft (RFC 9700 §4.14).
    pub current: bool,
    pub expires_at: u64,
}

/// Tokens issued by one successful exchange or refresh.
pub struct Issued {
    pub access_token: String,
    pub refresh_token: String,
}

/// The caps a store keeps: the constants above, smaller in tests.
#[derive(Clone, Copy, Debug)]
struct Caps {
    pending_per_client: usize,
    pending: usize,
    devices_per_client: usize,
    devices: usize,
    grants_per_pair: usize,
    grants: usize,
    tokens: usize,
    codes_per_pair: usize,
    codes: usize,
    wrong_per_slice: u32,
}

impl Default for Caps {
    fn default() -> Self {
        Caps {
            pending_per_client: MAX_PENDING_PER_CLIENT,
            pending: MAX_PENDING,
            devices_per_client: MAX_DEVICES_PER_CLIENT,
            devices: MAX_DEVICES,
            grants_per_pair: MAX_GRANTS_PER_PAIR,
            grants: MAX_GRANTS,
            tokens: MAX_TOKENS,
            codes_per_pair: MAX_CODES_PER_PAIR,
            codes: MAX_CODES,
            wrong_per_slice: MAX_WRONG_USER_CODES_PER_SLICE,
        }
    }
}

/// Records of one kind, counted per party and kept in arrival order within
/// each party, so that a cap can take the oldest record of one party.
struct Shares<P, K> {
    parties: HashMap<P, Share<K>>,
}

struct Share<K> {
    /// Records of the party still held.
    live: usize,
    /// Their keys, oldest first, with keys of records removed since (skipped).
    order: VecDeque<K>,
}

impl<P, K> Default for Shares<P, K> {
    fn default() -> Self {
        Shares {
            parties: HashMap::new(),
        }
    }
}

impl<P: Eq + Hash + Copy, K: Eq + Hash + Clone> Shares<P, K> {
    /// Counts a new record of `party`; returns how many it now holds.
    fn add(&mut self, party: P, key: K) -> usize {
        let share = self.parties.entry(party).or_insert_with(|| Share {
            live: 0,
            order: VecDeque::new(),
        });
        share.live += 1;
        share.order.push_back(key);
        share.live
    }

    /// A record of `party` has left its map (expired, used, revoked, evicted).
    fn left(&mut self, party: P) {
        if let Some(share) = self.parties.get_mut(&party) {
            share.live = share.live.saturating_sub(1);
            if share.live == 0 {
                self.parties.remove(&party);
            }
        }
    }

    #[cfg(test)]
    fn live(&self, party: P) -> usize {
        self.parties.get(&party).map_or(0, |s| s.live)
    }

    /// The party holding the most records: the one a cap for everyone takes from.
    fn largest(&self) -> Option<P> {
        self.parties
            .iter()
            .max_by_key(|(_, s)| s.live)
            .map(|(p, _)| *p)
    }

    /// The key of the record of `party` a cap takes, taken out of the order:
    /// the oldest of the party's newer half. The older half stays, so a flood
    /// from inside a party (a loop sharing a client with a class) churns
    /// through its own newest records, and what the party held before the
    /// flood (a person's open consent page, a live session) outlives it.
    /// After a flood ends, new records push the flood's out of the newer half
    /// first, and the older half leaves as it expires.
    fn victim<V>(&mut self, party: P, map: &HashMap<K, V>) -> Option<K> {
        let share = self.parties.get_mut(&party)?;
        let mut i = share.order.len() / 2;
        while i < share.order.len() {
            if map.contains_key(&share.order[i]) {
                return share.order.remove(i);
            }
            i += 1;
        }
        self.oldest(party, map)
    }

    /// The key of `party`'s oldest record still in `map`.
    fn oldest<V>(&mut self, party: P, map: &HashMap<K, V>) -> Option<K> {
        let share = self.parties.get_mut(&party)?;
        while let Some(key) = share.order.pop_front() {
            if map.contains_key(&key) {
                return Some(key);
            }
        }
        None
    }

    /// Drops keys of removed records once they are the majority (as [`compact`]).
    fn compact<V>(&mut self, map: &HashMap<K, V>) {
        for share in self.parties.values_mut() {
            if share.order.len() > 2 * share.live + 64 {
                share.order.retain(|key| map.contains_key(key));
            }
        }
    }
}

#[derive(Default)]
pub struct Store {
    caps: Caps,
    pending: HashMap<String, Pending>,
    pending_queue: VecDeque<(u64, String)>,
    pending_shares: Shares<usize, String>,
    /// Codes by digest; an expired one is purged before any lookup.
    pub codes: HashMap<Digest, CodeState>,
    /// Used codes past their lifetime whose grant still lives: (grant, what the code was for).
    pub used_codes: HashMap<Digest, (GrantId, Box<CodeDetails>)>,
    code_queue: VecDeque<(u64, Digest)>,
    code_shares: Shares<(usize, usize), Digest>,
    pub grants: HashMap<GrantId, Grant>,
    grant_shares: Shares<(usize, usize), GrantId>,
    next_grant: GrantId,
    pub access: HashMap<Digest, Access>,
    access_queue: VecDeque<(u64, Digest)>,
    pub refresh: HashMap<Digest, Refresh>,
    refresh_queue: VecDeque<(u64, Digest)>,
    next_flow: FlowId,
    /// Device authorizations by the digest of their device code; kept
    /// [`EXPIRED_GRACE_MS`] past expiry, to answer `expired_token` rather than
    /// "unknown".
    pub devices: HashMap<Digest, Device>,
    /// Normalized user code → the device code's digest.
    pub user_codes: HashMap<String, Digest>,
    device_queue: VecDeque<(u64, Digest)>,
    device_shares: Shares<usize, Digest>,
    /// Wrong user codes per slice of the code space: (when its minute began, how many).
    wrong_user_codes: HashMap<u16, (u64, u32)>,
    /// The key of the hash that cuts the code space into slices; drawn at the first use.
    slice_key: Option<[u8; 16]>,
}

/// Drops the entries of `queue` whose record has left `map`, once they are the
/// majority: each pass costs the queue's length, and is paid for by at least as
/// many removals since the last one.
fn compact<K: Eq + Hash, V>(queue: &mut VecDeque<(u64, K)>, map: &HashMap<K, V>) {
    if queue.len() > 2 * map.len() + 1024 {
        queue.retain(|(_, key)| map.contains_key(key));
    }
}

/// How many records of each kind the store holds (for the inspector and tests).
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub struct Counts {
    pub pending: usize,
    pub codes: usize,
    pub grants: usize,
    pub access_tokens: usize,
    pub refresh_tokens: usize,
    /// Device authorizations (RFC 8628) not yet forgotten.
    pub device_codes: usize,
}

impl Store {
    /// Numbers new flows after `last`: the flows of an events file from an
    /// earlier run keep their numbers (`--events-file`).
    pub fn number_flows_after(&mut self, last: FlowId) {
        self.next_flow = self.next_flow.max(last);
    }

    pub fn new_flow(&mut self) -> FlowId {
        self.next_flow += 1;
        self.next_flow
    }

    pub fn counts(&self) -> Counts {
        Counts {
            pending: self.pending.len(),
            codes: self.codes.len(),
            grants: self.grants.len(),
            access_tokens: self.access.len(),
            refresh_tokens: self.refresh.len(),
            device_codes: self.devices.len(),
        }
    }

    /// Forgets everything that has expired by `now`.
    pub fn purge(&mut self, now: u64) {
        while self.pending_queue.front().is_some_and(|(at, _)| *at <= now) {
            let (_, id) = self.pending_queue.pop_front().unwrap();
            self.remove_pending(&id);
        }
        while self.code_queue.front().is_some_and(|(at, _)| *at <= now) {
            let (_, key) = self.code_queue.pop_front().unwrap();
            self.forget_code(&key);
        }
        while self
            .access_queue
            .front()
            .is_some_and(|(at, _)| at + EXPIRED_GRACE_MS <= now)
        {
            let (_, key) = self.access_queue.pop_front().unwrap();
            let token = self.access.remove(&key);
            if let Some(grant) = token.and_then(|t| self.grants.get_mut(&t.grant)) {
                grant.access.retain(|k| *k != key);
            }
        }
        while self
            .refresh_queue
            .front()
            .is_some_and(|(at, _)| at + EXPIRED_GRACE_MS <= now)
        {
            let (_, key) = self.refresh_queue.pop_front().unwrap();
            let Some(token) = self.refresh.remove(&key) else {
                continue;
            };
            if let Some(grant) = self.grants.get_mut(&token.grant) {
                grant.refresh.retain(|k| *k != key);
                // A grant whose last refresh token is gone can issue nothing more.
                if grant.refresh.is_empty() && grant.access.is_empty() {
                    self.remove_grant(token.grant);
                }
            }
        }
        while self
            .device_queue
            .front()
            .is_some_and(|(at, _)| at + EXPIRED_GRACE_MS <= now)
        {
            let (_, key) = self.device_queue.pop_front().unwrap();
            self.remove_device(&key);
        }
        compact(&mut self.pending_queue, &self.pending);
        compact(&mut self.device_queue, &self.devices);
        self.pending_shares.compact(&self.pending);
        self.device_shares.compact(&self.devices);
        self.grant_shares.compact(&self.grants);
        self.code_shares.compact(&self.codes);
        compact(&mut self.code_queue, &self.codes);
        compact(&mut self.access_queue, &self.access);
        compact(&mut self.refresh_queue, &self.refresh);
    }

    /// Keeps a consent page's request until its form comes back; past the
    /// caps, a page of this client (or of the client with the most) is
    /// forgotten, never one of a quieter client.
    pub fn add_pending(&mut self, pending: Pending) -> String {
        let id = new_id();
        let client = pending.client;
        self.pending_queue
            .push_back((pending.expires_at, id.clone()));
        self.pending.insert(id.clone(), pending);
        if self.pending_shares.add(client, id.clone()) > self.caps.pending_per_client {
            self.evict_pending(client);
        }
        while self.pending.len() > self.caps.pending {
            match self.pending_shares.largest() {
                Some(largest) if self.evict_pending(largest) => {}
                _ => break,
            }
        }
        id
    }

    /// The consent page's request `id`, if it is still waiting.
    pub fn pending(&self, id: &str) -> Option<&Pending> {
        self.pending.get(id)
    }

    /// Forgets a consent page's request (used, denied, expired); returns it.
    pub fn remove_pending(&mut self, id: &str) -> Option<Pending> {
        let pending = self.pending.remove(id)?;
        self.pending_shares.left(pending.client);
        Some(pending)
    }

    fn evict_pending(&mut self, client: usize) -> bool {
        match self.pending_shares.victim(client, &self.pending) {
            Some(id) => self.remove_pending(&id).is_some(),
            None => false,
        }
    }

    fn remove_device(&mut self, key: &Digest) {
        if let Some(device) = self.devices.remove(key) {
            self.user_codes.remove(&device.user_code);
            self.device_shares.left(device.client);
        }
    }

    fn evict_device(&mut self, client: usize) -> bool {
        match self.device_shares.victim(client, &self.devices) {
            Some(key) => {
                self.remove_device(&key);
                true
            }
            None => false,
        }
    }

    /// The slice of the code space a (normalized) user code falls in.
    fn slice_of(&mut self, user_code: &str) -> u16 {
        let key = *self.slice_key.get_or_insert_with(random_bytes::<16>);
        let mut keyed = URL_SAFE_NO_PAD.encode(key);
        keyed.push_str(user_code);
        let d = digest(&keyed);
        (u16::from_le_bytes([d[0], d[1]]) as usize % USER_CODE_SLICES) as u16
    }

    /// True when entries in `user_code`'s slice are refused for now: its
    /// wrong entries reached [`MAX_WRONG_USER_CODES_PER_SLICE`] this minute.
    pub fn user_code_slice_locked(&mut self, user_code: &str, now: u64) -> bool {
        let slice = self.slice_of(user_code);
        self.wrong_user_codes
            .get(&slice)
            .is_some_and(|&(since, n)| now < since + 60_000 && n >= self.caps.wrong_per_slice)
    }

    /// Counts a wrong user code against its slice.
    pub fn wrong_user_code(&mut self, user_code: &str, now: u64) {
        let slice = self.slice_of(user_code);
        let entry = self.wrong_user_codes.entry(slice).or_insert((now, 0));
        if now >= entry.0 + 60_000 {
            *entry = (now, 0);
        }
        entry.1 += 1;
    }

    /// Issues a code; past the caps, a code of this client/user pair (or of
    /// the pair holding the most) is forgotten, never one of a quieter pair.
    pub fn issue_code(&mut self, details: CodeDetails, expires_at: u64) -> String {
        let code = new_secret("lab_code_");
        let key = digest(&code);
        let pair = (details.client, details.user);
        self.code_queue.push_back((expires_at, key));
        self.codes.insert(key, CodeState::Unused(Box::new(details)));
        if self.code_shares.add(pair, key) > self.caps.codes_per_pair {
            self.evict_code(pair);
        }
        while self.codes.len() > self.caps.codes {
            match self.code_shares.largest() {
                Some(largest) if self.evict_code(largest) => {}
                _ => break,
            }
        }
        code
    }

    /// Removes a code (expired, or evicted by a cap). A used code outlives
    /// its lifetime while its grant does, so that a replay still revokes what
    /// it gave (RFC 6749 §4.1.2); the grant's removal forgets it.
    fn forget_code(&mut self, key: &Digest) {
        let Some(state) = self.codes.remove(key) else {
            return;
        };
        let details = match state {
            CodeState::Unused(details) => details,
            CodeState::Used { grant, details } => {
                let pair = (details.client, details.user);
                if let Some(g) = self.grants.get_mut(&grant) {
                    g.code = Some(*key);
                    self.used_codes.insert(*key, (grant, details));
                }
                self.code_shares.left(pair);
                return;
            }
        };
        self.code_shares.left((details.client, details.user));
    }

    fn evict_code(&mut self, pair: (usize, usize)) -> bool {
        match self.code_shares.victim(pair, &self.codes) {
            Some(key) => {
                self.forget_code(&key);
                true
            }
            None => false,
        }
    }

    /// Records a device authorization request; returns the device code and the
    /// user code (normalized), both new (RFC 8628 §3.2, §6.1).
    pub fn add_device(
        &mut self,
        client: usize,
        scope: Scopes,
        flow: FlowId,
        expires_at: u64,
        interval_ms: u64,
    ) -> (String, String) {
        let device_code = new_secret("lab_dc_");
        let key = digest(&device_code);
        // Live user codes must differ: a collision would send one person's
        // approval to another's device.
        let user_code = loop {
            let candidate = new_user_code();
            if !self.user_codes.contains_key(&candidate) {
                break candidate;
            }
        };
        self.user_codes.insert(user_code.clone(), key);
        self.device_queue.push_back((expires_at, key));
        let held = self.device_shares.add(client, key);
        self.devices.insert(
            key,
            Device {
                client,
                scope,
                flow,
                user_code: user_code.clone(),
                expires_at,
                interval_ms,
                last_poll: None,
                state: DeviceState::Pending,
            },
        );
        if held > self.caps.devices_per_client {
            self.evict_device(client);
        }
        while self.devices.len() > self.caps.devices {
            match self.device_shares.largest() {
                Some(largest) if self.evict_device(largest) => {}
                _ => break,
            }
        }
        (device_code, user_code)
    }

    /// Starts a grant (a successful code exchange) and issues its first tokens.
    pub fn new_grant(
        &mut self,
        client: usize,
        user: usize,
        scope: Scopes,
        flow: FlowId,
        auth_time: u64,
        (token_expires_at, refresh_expires_at): (u64, u64),
    ) -> (GrantId, Issued) {
        self.next_grant += 1;
        let id = self.next_grant;
        self.grants.insert(
            id,
            Grant {
                client,
                user,
                scope,
                flow,
                auth_time,
                access: VecDeque::new(),
                refresh: VecDeque::new(),
                code: None,
            },
        );
        if self.grant_shares.add((client, user), id) > self.caps.grants_per_pair {
            if let Some(old) = self.grant_shares.victim((client, user), &self.grants) {
                self.remove_grant(old);
            }
        }
        let issued = self.issue_tokens(id, scope, token_expires_at, refresh_expires_at);
        (id, issued)
    }

    /// Issues a new access token and refresh token under a grant; older refresh
    /// tokens of the grant are rotated out (RFC 6749 §6, RFC 9700 §4.14.2).
    pub fn issue_tokens(
        &mut self,
        grant_id: GrantId,
        scope: Scopes,
        token_expires_at: u64,
        refresh_expires_at: u64,
    ) -> Issued {
        let access_token = new_secret("lab_at_");
        let refresh_token = new_secret("lab_rt_");
        let (ak, rk) = (digest(&access_token), digest(&refresh_token));
        let grant = self.grants.get_mut(&grant_id).expect("grant exists");
        for old in &grant.refresh {
            if let Some(r) = self.refresh.get_mut(old) {
                r.current = false;
            }
        }
        grant.access.push_back(ak);
        grant.refresh.push_back(rk);
        let dropped_access =
            (grant.access.len() > MAX_TOKENS_PER_GRANT).then(|| grant.access.pop_front());
        let dropped_refresh =
            (grant.refresh.len() > MAX_TOKENS_PER_GRANT).then(|| grant.refresh.pop_front());
        if let Some(Some(k)) = dropped_access {
            self.access.remove(&k);
        }
        if let Some(Some(k)) = dropped_refresh {
            self.refresh.remove(&k);
        }
        self.access.insert(
            ak,
            Access {
                grant: grant_id,
                scope,
                expires_at: token_expires_at,
                revoked: false,
                bucket: (f64::NAN, 0),
            },
        );
        self.access_queue.push_back((token_expires_at, ak));
        self.refresh.insert(
            rk,
            Refresh {
                grant: grant_id,
                current: true,
                expires_at: refresh_expires_at,
            },
        );
        self.refresh_queue.push_back((refresh_expires_at, rk));
        // The caps for everyone take from the pair holding the most grants.
        while self.grants.len() > self.caps.grants
            || self.access.len() + self.refresh.len() > self.caps.tokens
        {
            let Some(largest) = self.grant_shares.largest() else {
                break;
            };
            match self.grant_shares.victim(largest, &self.grants) {
                Some(old) => {
                    self.remove_grant(old);
                }
                None => break,
            }
        }
        Issued {
            access_token,
            refresh_token,
        }
    }

    /// Revokes a grant and every token issued under it; returns how many tokens died.
    pub fn revoke_grant(&mut self, grant_id: GrantId) -> usize {
        self.remove_grant(grant_id)
    }

    fn remove_grant(&mut self, grant_id: GrantId) -> usize {
        let Some(grant) = self.grants.remove(&grant_id) else {
            return 0;
        };
        self.grant_shares.left((grant.client, grant.user));
        if let Some(code) = grant.code {
            self.used_codes.remove(&code);
        }
        let mut killed = 0;
        for k in &grant.access {
            if self.access.remove(k).is_some_and(|a| !a.revoked) {
                killed += 1;
            }
        }
        for k in &grant.refresh {
            if self.refresh.remove(k).is_some_and(|r| r.current) {
                killed += 1;
            }
        }
        killed
    }

    /// Revokes one access token (RFC 7009: the grant and its refresh token stay).
    pub fn revoke_access(&mut self, key: &Digest) {
        if let Some(token) = self.access.get_mut(key) {
            token.revoked = true;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Small caps, so that filling them is quick; the logic is the same.
    fn small() -> Store {
        Store {
            caps: Caps {
                pending_per_client: 100,
                pending: 400,
                devices_per_client: 100,
                devices: 400,
                grants_per_pair: 100,
                grants: 500,
                tokens: 2_000,
                codes_per_pair: 100,
                codes: 200,
                wrong_per_slice: 2,
            },
            ..Store::default()
        }
    }

    fn grant(store: &mut Store) -> GrantId {
        let scope = Scopes::parse("profile").unwrap();
        store.new_grant(0, 0, scope, 1, 0, (1_000, 2_000)).0
    }

    #[test]
    fn queues_of_records_removed_early_do_not_grow_without_bound() {
        let mut store = Store::default();
        let ids: Vec<GrantId> = (0..3000).map(|_| grant(&mut store)).collect();
        for id in &ids[..2500] {
            store.revoke_grant(*id);
        }
        store.purge(0);
        assert_eq!(store.access.len(), 500);
        assert_eq!(
            store.access_queue.len(),
            500,
            "revoked tokens' entries are dropped"
        );
        assert_eq!(store.refresh_queue.len(), 500);
        // What is left still expires on time.
        store.purge(2_000 + EXPIRED_GRACE_MS);
        assert_eq!(store.counts().grants, 0);
    }

    #[test]
    fn a_class_sharing_one_client_and_user_keeps_its_grants_up_to_the_cap() {
        let mut store = Store::default();
        let first = grant(&mut store);
        let second = grant(&mut store);
        // 500 students, ten flows each, all as alice with lab-public.
        for _ in 2..5000 {
            grant(&mut store);
        }
        assert!(
            store.grants.contains_key(&first),
            "a class does not reach the cap"
        );
        for _ in 5000..MAX_GRANTS_PER_PAIR {
            grant(&mut store);
        }
        assert!(
            store.grants.contains_key(&first),
            "no grant is evicted below the cap"
        );
        let newest_before = grant(&mut store);
        assert!(
            store.grants.contains_key(&first) && store.grants.contains_key(&second),
            "past the cap, the older half stays"
        );
        assert!(store.grants.contains_key(&newest_before));
        assert_eq!(store.counts().access_tokens, MAX_GRANTS_PER_PAIR);
        assert_eq!(store.grant_shares.live((0, 0)), MAX_GRANTS_PER_PAIR);
    }

    #[test]
    fn device_authorizations_are_capped_and_forgotten_after_expiry() {
        let mut store = Store::default();
        let scope = Scopes::parse("profile").unwrap();
        let (first, _) = store.add_device(0, scope, 1, 1_000, 5_000);
        for _ in 0..MAX_DEVICES_PER_CLIENT {
            store.add_device(0, scope, 1, 1_000, 5_000);
        }
        store.purge(0);
        assert_eq!(
            store.devices.len(),
            MAX_DEVICES_PER_CLIENT,
            "past the cap, one of the newer half goes"
        );
        assert!(store.devices.contains_key(&digest(&first)));
        assert_eq!(
            store.user_codes.len(),
            MAX_DEVICES_PER_CLIENT,
            "with its user code"
        );
        // Kept a while past expiry, to answer expired_token; then forgotten.
        store.purge(1_000);
        assert_eq!(store.counts().device_codes, MAX_DEVICES_PER_CLIENT);
        store.purge(1_000 + EXPIRED_GRACE_MS);
        assert_eq!((store.devices.len(), store.user_codes.len()), (0, 0));
        assert!(store.device_shares.parties.is_empty());
    }

    fn pending(client: usize) -> Pending {
        Pending {
            client,
            redirect_uri: "http://127.0.0.1/callback".into(),
            redirect_uri_sent: true,
            state: None,
            scope: Scopes::parse("profile").unwrap(),
            challenge: None,
            nonce: None,
            flow: 1,
            expires_at: 1_000,
        }
    }

    // Fair shares (book/src/appendix/instructor.md, one provider for a class):
    // a client's flood of unfinished GET /authorize pushes out only its own
    // newer consent pages; a page opened before it stays, even of the same
    // client.
    #[test]
    fn a_clients_flood_of_consent_pages_keeps_another_clients_page() {
        let mut store = small();
        let quiet = store.add_pending(pending(1));
        let same_client_before = store.add_pending(pending(0));
        let flood: Vec<String> = (0..store.caps.pending_per_client + 1_000)
            .map(|_| store.add_pending(pending(0)))
            .collect();
        assert!(
            store.pending(&quiet).is_some(),
            "another client's page stays"
        );
        assert!(
            store.pending(&same_client_before).is_some(),
            "a page of the same client opened before the flood stays"
        );
        assert!(store.pending(flood.last().unwrap()).is_some());
        let kept = flood
            .iter()
            .filter(|id| store.pending(id).is_some())
            .count();
        assert_eq!(kept, store.caps.pending_per_client - 1);
        assert_eq!(store.pending_shares.live(0), store.caps.pending_per_client);
        assert_eq!(store.pending.len(), store.caps.pending_per_client + 1);
        // Used and expired pages leave their share too.
        assert!(store.remove_pending(&quiet).is_some());
        assert_eq!(store.pending_shares.live(1), 0);
        store.purge(1_000);
        assert_eq!(store.pending.len(), 0);
        assert!(store.pending_shares.parties.is_empty());
    }

    // Past the cap for everyone, the client holding the most pages loses one,
    // never a quiet client.
    #[test]
    fn the_cap_for_everyone_takes_from_the_client_holding_the_most() {
        let mut store = small();
        let clients = store.caps.pending / store.caps.pending_per_client;
        for client in 0..clients {
            for _ in 0..store.caps.pending_per_client - client {
                store.add_pending(pending(client));
            }
        }
        let quiet: Vec<String> = (0..clients + 10)
            .map(|_| store.add_pending(pending(clients)))
            .collect();
        assert_eq!(store.pending.len(), store.caps.pending);
        assert!(quiet.iter().all(|id| store.pending(id).is_some()));
        // Client 0 held the most; it lost as many as it took to come level
        // with client 1, then they took turns.
        assert!(store.pending_shares.live(0) < store.caps.pending_per_client);
        assert!(store.pending_shares.live(clients - 1) >= store.caps.pending_per_client - clients);
    }

    #[test]
    fn a_clients_flood_of_device_authorizations_keeps_another_clients_user_code() {
        let mut store = small();
        let scope = Scopes::parse("profile").unwrap();
        let (quiet, quiet_user_code) = store.add_device(1, scope, 1, 1_000, 5_000);
        for _ in 0..store.caps.devices_per_client + 1_000 {
            store.add_device(0, scope, 1, 1_000, 5_000);
        }
        assert!(store.devices.contains_key(&digest(&quiet)));
        assert_eq!(store.user_codes[&quiet_user_code], digest(&quiet));
        assert_eq!(store.device_shares.live(0), store.caps.devices_per_client);
    }

    // Grants are capped per client/user pair, and past the cap for everyone
    // the pair holding the most loses its oldest.
    #[test]
    fn a_pairs_flood_of_grants_revokes_nothing_of_another_pair() {
        let mut store = small();
        let scope = Scopes::parse("profile").unwrap();
        let (quiet, _) = store.new_grant(1, 0, scope, 1, 0, (1_000, 2_000));
        let pairs = store.caps.grants / store.caps.grants_per_pair;
        for client in 2..2 + pairs {
            for _ in 0..store.caps.grants_per_pair {
                store.new_grant(client, 0, scope, 1, 0, (1_000, 2_000));
            }
        }
        assert_eq!(store.grants.len(), store.caps.grants);
        assert!(
            store.grants.contains_key(&quiet),
            "a quiet pair keeps its grant"
        );
        let refresh = store.grants[&quiet].refresh[0];
        assert!(store.refresh[&refresh].current);
    }

    #[test]
    fn past_the_token_cap_the_pair_with_the_most_grants_loses_one() {
        let mut store = small();
        let scope = Scopes::parse("profile").unwrap();
        let (quiet, _) = store.new_grant(1, 0, scope, 1, 0, (1_000, 2_000));
        // Each refresh keeps the rotated-out refresh token, for reuse detection.
        let per_grant = 2 * MAX_TOKENS_PER_GRANT;
        let mut ids = Vec::new();
        for _ in 0..store.caps.tokens / per_grant + 5 {
            let (id, _) = store.new_grant(0, 0, scope, 1, 0, (1_000, 2_000));
            for _ in 1..MAX_TOKENS_PER_GRANT {
                store.issue_tokens(id, scope, 1_000, 2_000);
            }
            ids.push(id);
        }
        assert!(store.access.len() + store.refresh.len() <= store.caps.tokens);
        assert!(store.grants.contains_key(&quiet));
        assert!(store.grants.contains_key(&ids[0]), "the older half stays");
        assert!(
            ids.iter().any(|id| !store.grants.contains_key(id)),
            "the flood lost some of its own"
        );
        assert!(store.grants.contains_key(ids.last().unwrap()));
    }

    fn details(client: usize, user: usize) -> CodeDetails {
        CodeDetails {
            client,
            user,
            redirect_uri: "http://127.0.0.1/callback".into(),
            redirect_uri_sent: true,
            scope: Scopes::parse("profile").unwrap(),
            challenge: None,
            nonce: None,
            auth_time: 0,
            flow: 1,
        }
    }

    // A pair's flood of codes (a loop logging in as alice) forgets only its
    // own newer codes: another pair's unused code, and an earlier one of the
    // same pair, can still be exchanged.
    #[test]
    fn a_pairs_flood_of_codes_keeps_another_pairs_unused_code() {
        let mut store = small();
        let quiet = digest(&store.issue_code(details(0, 1), 1_000));
        let earlier = digest(&store.issue_code(details(0, 0), 1_000));
        for _ in 0..store.caps.codes * 3 {
            store.issue_code(details(0, 0), 1_000);
        }
        assert!(matches!(
            store.codes.get(&quiet),
            Some(CodeState::Unused(_))
        ));
        assert!(store.codes.contains_key(&earlier));
        assert_eq!(store.code_shares.live((0, 0)), store.caps.codes_per_pair);
        // Past the cap for everyone, the pair holding the most loses one.
        for user in 2..6 {
            for _ in 0..store.caps.codes_per_pair / 2 {
                store.issue_code(details(1, user), 1_000);
            }
        }
        assert_eq!(store.codes.len(), store.caps.codes);
        assert!(store.codes.contains_key(&quiet));
        store.purge(1_000);
        assert!(store.codes.is_empty() && store.code_shares.parties.is_empty());
    }

    // Within one party, after a flood ends, new records push out the flood's
    // newer half first and then cycle among themselves: no lasting lock-out.
    #[test]
    fn after_a_flood_new_records_of_the_same_party_still_live() {
        let mut store = small();
        let cap = store.caps.pending_per_client;
        let flood: Vec<String> = (0..cap * 3)
            .map(|_| store.add_pending(pending(0)))
            .collect();
        let class: Vec<String> = (0..cap / 4)
            .map(|_| store.add_pending(pending(0)))
            .collect();
        assert!(class.iter().all(|id| store.pending(id).is_some()));
        assert_eq!(store.pending_shares.live(0), cap);
        assert!(
            store.pending(&flood[0]).is_some(),
            "the older half expires in time"
        );
        store.purge(1_000);
        assert_eq!(store.pending.len(), 0);
    }

    // RFC 8628 §5.1: wrong user codes lock only their own slice of the code
    // space, for a minute.
    #[test]
    fn rfc8628_5_1_wrong_user_codes_lock_only_their_slice() {
        let mut store = small();
        let guess = "BCDFGHJK";
        for _ in 0..store.caps.wrong_per_slice {
            assert!(!store.user_code_slice_locked(guess, 0));
            store.wrong_user_code(guess, 0);
        }
        assert!(store.user_code_slice_locked(guess, 59_999));
        assert!(!store.user_code_slice_locked(guess, 60_000), "for a minute");
        // Other codes mostly fall in other slices, which stay open.
        let open = (0..200)
            .map(|_| new_user_code())
            .filter(|c| !store.user_code_slice_locked(c, 1))
            .count();
        assert!(open >= 190, "{open} of 200 open");
    }

    #[test]
    fn rfc8628_5_1_guessing_as_a_whole_stays_bounded() {
        let mut store = small();
        let mut accepted = 0;
        for _ in 0..USER_CODE_SLICES * store.caps.wrong_per_slice as usize * 3 {
            let guess = new_user_code();
            if !store.user_code_slice_locked(&guess, 0) {
                store.wrong_user_code(&guess, 0);
                accepted += 1;
            }
        }
        assert!(accepted <= USER_CODE_SLICES * store.caps.wrong_per_slice as usize);
    }

    #[test]
    fn revoking_a_grant_removes_it_from_its_pair() {
        let mut store = Store::default();
        let ids: Vec<GrantId> = (0..5).map(|_| grant(&mut store)).collect();
        store.revoke_grant(ids[2]);
        assert_eq!(store.grant_shares.live((0, 0)), 4);
        let oldest: Vec<GrantId> = (0..4)
            .map(|_| {
                let id = store.grant_shares.oldest((0, 0), &store.grants).unwrap();
                store.remove_grant(id);
                id
            })
            .collect();
        assert_eq!(oldest, [ids[0], ids[1], ids[3], ids[4]]);
        assert!(store.grant_shares.parties.is_empty());
    }
}
