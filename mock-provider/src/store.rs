//! What the provider remembers between requests, and how it forgets.
//!
//! Links, so that a replay or a revocation reaches everything it must:
//! a code knows the grant it was exchanged for; a grant knows every access and
//! refresh token issued under it; every token knows its grant.
//!
//! Memory stays bounded, whatever clients do: codes, pending consent pages and
//! tokens are purged when they expire (each kind has one lifetime, so a FIFO queue
//! holds them in expiry order); at most [`MAX_PENDING`] consent pages and
//! [`MAX_CODES`] codes are held, the oldest forgotten first; and each client/user
//! pair keeps at most [`MAX_GRANTS_PER_PAIR`] grants, the oldest revoked first
//! (as some real providers do).
//! A record removed early (a used consent page, a revoked or evicted token) leaves
//! its queue entry behind; such entries are dropped once they outnumber the live
//! records (see [`compact`]), so a queue never grows past about twice its map.

use std::collections::{HashMap, VecDeque};
use std::hash::Hash;

use crate::config::Scopes;
use crate::secrets::{Digest, digest, new_id, new_secret, new_user_code};

/// Large enough that a class of hundreds of students, all logging in as alice
/// with the same client, never sees a token revoked while it is still in use;
/// a grant with its two tokens takes well under a kilobyte.
pub const MAX_GRANTS_PER_PAIR: usize = 10_000;
/// Per grant: access tokens still valid, and rotated-out refresh tokens remembered
/// for reuse detection.
pub const MAX_TOKENS_PER_GRANT: usize = 100;
pub const MAX_PENDING: usize = 10_000;
/// Codes held at once, used or not, the oldest forgotten first: a class issues
/// far fewer within a code's lifetime, but a load test can issue thousands a
/// second, and without a cap they would all be held for a minute.
pub const MAX_CODES: usize = 20_000;
/// Expired tokens are remembered this long, to tell "expired" from "unknown".
pub const EXPIRED_GRACE_MS: u64 = 10 * 60 * 1000;
/// Device authorizations held at once (RFC 8628), the oldest forgotten first.
pub const MAX_DEVICES: usize = 10_000;
/// Wrong user codes accepted per minute on the verification page, for the whole
/// provider: beyond it every entry is refused until the minute has passed
/// (RFC 8628 §5.1, brute forcing the user code).
pub const MAX_WRONG_USER_CODES_PER_MINUTE: usize = 300;

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
    pub flow: FlowId,
}

#[derive(Debug)]
pub enum CodeState {
    Unused(Box<CodeDetails>),
    /// Exchanged already: kept until expiry so that a replay can revoke the grant.
    Used {
        grant: GrantId,
        flow: FlowId,
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

#[derive(Default)]
pub struct Store {
    pub pending: HashMap<String, Pending>,
    pending_queue: VecDeque<(u64, String)>,
    /// Codes by digest; an expired one is purged before any lookup.
    pub codes: HashMap<Digest, CodeState>,
    /// Used codes past their lifetime whose grant still lives: (grant, flow).
    pub used_codes: HashMap<Digest, (GrantId, FlowId)>,
    code_queue: VecDeque<(u64, Digest)>,
    pub grants: HashMap<GrantId, Grant>,
    grants_by_pair: HashMap<(usize, usize), VecDeque<GrantId>>,
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
    /// When recent wrong user codes were entered (the last minute's).
    pub wrong_user_codes: VecDeque<u64>,
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
        while let Some((at, _)) = self.pending_queue.front() {
            if *at > now && self.pending.len() <= MAX_PENDING {
                break;
            }
            let (_, id) = self.pending_queue.pop_front().unwrap();
            self.pending.remove(&id);
        }
        while self
            .code_queue
            .front()
            .is_some_and(|(at, _)| *at <= now || self.codes.len() > MAX_CODES)
        {
            let (_, key) = self.code_queue.pop_front().unwrap();
            // A used code outlives its lifetime while its grant does, so that a
            // replay still revokes what it gave (RFC 6749 §4.1.2); the grant's
            // removal forgets it.
            if let Some(CodeState::Used { grant, flow }) = self.codes.remove(&key)
                && let Some(g) = self.grants.get_mut(&grant)
            {
                g.code = Some(key);
                self.used_codes.insert(key, (grant, flow));
            }
        }
        while self
            .access_queue
            .front()
            .is_some_and(|(at, _)| at + EXPIRED_GRACE_MS <= now)
        {
            let (_, key) = self.access_queue.pop_front().unwrap();
            if let Some(token) = self.access.remove(&key)
                && let Some(grant) = self.grants.get_mut(&token.grant)
            {
                grant.access.retain(|k| *k != key);
            }
        }
        while self
            .refresh_queue
            .front()
            .is_some_and(|(at, _)| at + EXPIRED_GRACE_MS <= now)
        {
            let (_, key) = self.refresh_queue.pop_front().unwrap();
            if let Some(token) = self.refresh.remove(&key)
                && let Some(grant) = self.grants.get_mut(&token.grant)
            {
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
            .is_some_and(|(at, _)| at + EXPIRED_GRACE_MS <= now || self.devices.len() > MAX_DEVICES)
        {
            let (_, key) = self.device_queue.pop_front().unwrap();
            if let Some(device) = self.devices.remove(&key) {
                self.user_codes.remove(&device.user_code);
            }
        }
        while self
            .wrong_user_codes
            .front()
            .is_some_and(|at| at + 60_000 <= now)
        {
            self.wrong_user_codes.pop_front();
        }
        compact(&mut self.pending_queue, &self.pending);
        compact(&mut self.code_queue, &self.codes);
        compact(&mut self.access_queue, &self.access);
        compact(&mut self.refresh_queue, &self.refresh);
    }

    pub fn add_pending(&mut self, pending: Pending) -> String {
        let id = new_id();
        self.pending_queue
            .push_back((pending.expires_at, id.clone()));
        self.pending.insert(id.clone(), pending);
        id
    }

    pub fn issue_code(&mut self, details: CodeDetails, expires_at: u64) -> String {
        let code = new_secret("lab_code_");
        let key = digest(&code);
        self.code_queue.push_back((expires_at, key));
        self.codes.insert(key, CodeState::Unused(Box::new(details)));
        code
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
        (device_code, user_code)
    }

    /// Starts a grant (a successful code exchange) and issues its first tokens.
    pub fn new_grant(
        &mut self,
        client: usize,
        user: usize,
        scope: Scopes,
        flow: FlowId,
        token_expires_at: u64,
        refresh_expires_at: u64,
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
                access: VecDeque::new(),
                refresh: VecDeque::new(),
                code: None,
            },
        );
        let pair = self.grants_by_pair.entry((client, user)).or_default();
        pair.push_back(id);
        let evicted = if pair.len() > MAX_GRANTS_PER_PAIR {
            pair.pop_front()
        } else {
            None
        };
        if let Some(old) = evicted {
            self.remove_grant(old);
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
        // Grant ids only grow, so each pair's queue is sorted.
        if let Some(pair) = self.grants_by_pair.get_mut(&(grant.client, grant.user))
            && let Ok(i) = pair.binary_search(&grant_id)
        {
            pair.remove(i);
        }
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

    fn grant(store: &mut Store) -> GrantId {
        let scope = Scopes::parse("profile").unwrap();
        store.new_grant(0, 0, scope, 1, 1_000, 2_000).0
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
        grant(&mut store);
        assert!(
            !store.grants.contains_key(&first),
            "past the cap, the oldest goes"
        );
        assert!(store.grants.contains_key(&second));
        assert_eq!(store.counts().access_tokens, MAX_GRANTS_PER_PAIR);
    }

    #[test]
    fn device_authorizations_are_capped_and_forgotten_after_expiry() {
        let mut store = Store::default();
        let scope = Scopes::parse("profile").unwrap();
        let (first, _) = store.add_device(0, scope, 1, 1_000, 5_000);
        for _ in 0..MAX_DEVICES {
            store.add_device(0, scope, 1, 1_000, 5_000);
        }
        store.purge(0);
        assert_eq!(
            store.devices.len(),
            MAX_DEVICES,
            "past the cap, the oldest goes"
        );
        assert!(!store.devices.contains_key(&digest(&first)));
        assert_eq!(store.user_codes.len(), MAX_DEVICES, "with its user code");
        // Kept a while past expiry, to answer expired_token; then forgotten.
        store.purge(1_000);
        assert_eq!(store.counts().device_codes, MAX_DEVICES);
        store.purge(1_000 + EXPIRED_GRACE_MS);
        assert_eq!((store.devices.len(), store.user_codes.len()), (0, 0));
    }

    #[test]
    fn revoking_a_grant_removes_it_from_its_pair() {
        let mut store = Store::default();
        let ids: Vec<GrantId> = (0..5).map(|_| grant(&mut store)).collect();
        store.revoke_grant(ids[2]);
        let pair: Vec<GrantId> = store.grants_by_pair[&(0, 0)].iter().copied().collect();
        assert_eq!(pair, [ids[0], ids[1], ids[3], ids[4]]);
    }
}
