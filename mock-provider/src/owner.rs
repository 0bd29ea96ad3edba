//! A simulated resource owner: does what a person in a browser would do with an
//! authorization URL (loads the page, fills in the form, presses a button) and
//! reports where the provider sent the browser next.
//!
//! For the device flow (RFC 8628) it plays the person on a phone: opens the
//! verification page, types the user code, logs in and decides.
//!
//! It works against any running mock provider, over HTTP, through the page
//! contract only: it reads the form from the HTML like a browser does.

use std::time::Duration;

use crate::secrets::shorten;

/// Approve or deny, as on the consent page.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Decision {
    Approve,
    Deny,
}

/// Where the provider sent the browser: the client's redirect URI with the answer.
#[derive(Clone, PartialEq, Eq)]
pub struct Redirect {
    pub location: String,
}

impl std::fmt::Debug for Redirect {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The location carries the authorization code: show it shortened.
        let shown = match self.param("code") {
            Some(code) => self.location.replace(&code, &shorten(&code)),
            None => self.location.clone(),
        };
        f.debug_struct("Redirect")
            .field("location", &shown)
            .finish()
    }
}

impl Redirect {
    /// A query parameter of the redirect, decoded.
    pub fn param(&self, name: &str) -> Option<String> {
        let url = url::Url::parse(&self.location).ok()?;
        url.query_pairs()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.into_owned())
    }

    /// Loads the redirect URI as the browser would, delivering the answer to the
    /// client's loopback listener; returns the status and page it answered.
    pub fn follow(&self) -> Result<(u16, String), OwnerError> {
        let mut response = agent()
            .get(&self.location)
            .call()
            .map_err(|e| OwnerError::Http(format!("GET {}: {e}", self.origin())))?;
        let status = response.status().as_u16();
        let body = response.body_mut().read_to_string().unwrap_or_default();
        Ok((status, body))
    }

    fn origin(&self) -> String {
        url::Url::parse(&self.location)
            .map(|u| format!("{}{}", u.origin().ascii_serialization(), u.path()))
            .unwrap_or_default()
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum OwnerError {
    /// The request did not get an answer.
    Http(String),
    /// The provider answered with a page instead of a redirect (an error page, or
    /// the login form again after a wrong password); the text is its message.
    NoRedirect { status: u16, message: String },
    /// The consent page does not follow the page contract.
    PageContract(String),
    /// The device flow's page (RFC 8628 §3.3) answered with a message instead of
    /// taking the decision: an unknown or expired code, a wrong password…
    Device { status: u16, message: String },
}

impl std::fmt::Display for OwnerError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            OwnerError::Http(e) => {
                write!(f, "the simulated user could not reach the provider: {e}")
            }
            OwnerError::NoRedirect { status, message } => {
                write!(
                    f,
                    "the provider answered {status} without a redirect: {message}"
                )
            }
            OwnerError::PageContract(e) => write!(f, "the consent page is not as expected: {e}"),
            OwnerError::Device { status, message } => {
                write!(f, "the device page answered {status}: {message}")
            }
        }
    }
}

impl std::error::Error for OwnerError {}

/// A person with a username and password, at a browser.
#[derive(Clone)]
pub struct ResourceOwner {
    pub username: String,
    password: String,
}

impl std::fmt::Debug for ResourceOwner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ResourceOwner")
            .field("username", &self.username)
            .field("password", &"[redacted]")
            .finish()
    }
}

pub(crate) fn agent() -> ureq::Agent {
    ureq::Agent::config_builder()
        .max_redirects(0)
        .http_status_as_error(false)
        .timeout_global(Some(Duration::from_secs(10)))
        .build()
        .into()
}

impl ResourceOwner {
    pub fn new(username: &str, password: &str) -> Self {
        ResourceOwner {
            username: username.to_string(),
            password: password.to_string(),
        }
    }

    /// Opens `authorization_url`, logs in and approves.
    pub fn approve(&self, authorization_url: &str) -> Result<Redirect, OwnerError> {
        self.decide(authorization_url, Decision::Approve)
    }

    /// A login form as this person submits it: its hidden fields, then the
    /// username, the password and the decision.
    fn login_form(
        &self,
        mut fields: Vec<(String, String)>,
        decision: Decision,
    ) -> Vec<(String, String)> {
        let decision = match decision {
            Decision::Approve => "approve",
            Decision::Deny => "deny",
        };
        fields.push(("username".into(), self.username.clone()));
        fields.push(("password".into(), self.password.clone()));
        fields.push(("decision".into(), decision.into()));
        fields
    }

    /// Opens `authorization_url` and denies.
    pub fn deny(&self, authorization_url: &str) -> Result<Redirect, OwnerError> {
        self.decide(authorization_url, Decision::Deny)
    }

    pub fn decide(
        &self,
        authorization_url: &str,
        decision: Decision,
    ) -> Result<Redirect, OwnerError> {
        let agent = agent();
        let page_url = url::Url::parse(authorization_url)
            .map_err(|e| OwnerError::Http(format!("not a URL: {authorization_url:?}: {e}")))?;
        let mut response = agent
            .get(page_url.as_str())
            .call()
            .map_err(|e| OwnerError::Http(format!("GET {}: {e}", page_url.path())))?;
        // An error redirect, or auto-approve: no page to fill in.
        if let Some(redirect) = redirect_of(&response) {
            return Ok(redirect);
        }
        let status = response.status().as_u16();
        let html = response.body_mut().read_to_string().unwrap_or_default();
        if status != 200 {
            return Err(OwnerError::NoRedirect {
                status,
                message: page_message(&html),
            });
        }
        let form = Form::read(&html)?;
        let action = page_url
            .join(&form.action)
            .map_err(|e| OwnerError::PageContract(format!("form action {:?}: {e}", form.action)))?;
        let fields = self.login_form(form.hidden, decision);
        let body = url::form_urlencoded::Serializer::new(String::new())
            .extend_pairs(fields.iter())
            .finish();
        let mut response = agent
            .post(action.as_str())
            .header("Content-Type", "application/x-www-form-urlencoded")
            .send(body.as_str())
            .map_err(|e| OwnerError::Http(format!("POST {}: {e}", action.path())))?;
        if let Some(redirect) = redirect_of(&response) {
            return Ok(redirect);
        }
        let status = response.status().as_u16();
        let html = response.body_mut().read_to_string().unwrap_or_default();
        Err(OwnerError::NoRedirect {
            status,
            message: page_message(&html),
        })
    }
}

impl ResourceOwner {
    /// Opens `verification_uri` on another device, types `user_code`, logs in
    /// and approves (RFC 8628 §3.3).
    pub fn approve_device(
        &self,
        verification_uri: &str,
        user_code: &str,
    ) -> Result<(), OwnerError> {
        self.decide_device(verification_uri, user_code, Decision::Approve)
    }

    /// Opens `verification_uri`, types `user_code` and denies.
    pub fn deny_device(&self, verification_uri: &str, user_code: &str) -> Result<(), OwnerError> {
        self.decide_device(verification_uri, user_code, Decision::Deny)
    }

    /// What a person does with the code a device shows: loads the page, types
    /// the code, presses Continue, logs in and decides. `Ok` once the page says
    /// the decision was taken.
    pub fn decide_device(
        &self,
        verification_uri: &str,
        user_code: &str,
        decision: Decision,
    ) -> Result<(), OwnerError> {
        let agent = agent();
        let page_url = url::Url::parse(verification_uri)
            .map_err(|e| OwnerError::Http(format!("not a URL: {verification_uri:?}: {e}")))?;
        let (status, html) = fetch(agent.get(page_url.as_str()).call(), &page_url)?;
        if status != 200 {
            return Err(OwnerError::Device {
                status,
                message: page_message(&html),
            });
        }
        // The entry form: a field #user_code and the form it belongs to.
        let form = tags(&html, "form")
            .into_iter()
            .next()
            .ok_or_else(|| OwnerError::PageContract("no <form> on the device page".into()))?;
        if !tags(&html, "input")
            .iter()
            .any(|t| attr(t, "id").as_deref() == Some("user_code"))
        {
            return Err(OwnerError::PageContract(
                "no input #user_code on the device page".into(),
            ));
        }
        let action = page_url
            .join(&attr(&form, "action").unwrap_or_default())
            .map_err(|e| OwnerError::PageContract(format!("form action: {e}")))?;
        let post = |fields: &[(String, String)]| {
            let body = url::form_urlencoded::Serializer::new(String::new())
                .extend_pairs(fields.iter())
                .finish();
            fetch(
                agent
                    .post(action.as_str())
                    .header("Content-Type", "application/x-www-form-urlencoded")
                    .send(body.as_str()),
                &action,
            )
        };
        let (status, html) = post(&[
            ("user_code".into(), user_code.to_string()),
            ("decision".into(), "continue".into()),
        ])?;
        if status != 200 {
            return Err(OwnerError::Device {
                status,
                message: page_message(&html),
            });
        }
        let form = Form::read(&html)?;
        let fields = self.login_form(form.hidden, decision);
        let (status, html) = post(&fields)?;
        if status == 200 && html.contains("role=\"status\"") {
            Ok(())
        } else {
            Err(OwnerError::Device {
                status,
                message: page_message(&html),
            })
        }
    }
}

/// The status and text of an answer, or why there was none.
fn fetch(
    result: Result<ureq::http::Response<ureq::Body>, ureq::Error>,
    url: &url::Url,
) -> Result<(u16, String), OwnerError> {
    let mut response = result.map_err(|e| OwnerError::Http(format!("{}: {e}", url.path())))?;
    let status = response.status().as_u16();
    let html = response.body_mut().read_to_string().unwrap_or_default();
    Ok((status, html))
}

fn redirect_of(response: &ureq::http::Response<ureq::Body>) -> Option<Redirect> {
    if !response.status().is_redirection() {
        return None;
    }
    let location = response.headers().get("location")?.to_str().ok()?;
    Some(Redirect {
        location: location.to_string(),
    })
}

/// The form on the consent page, read the way a browser reads it.
struct Form {
    action: String,
    hidden: Vec<(String, String)>,
}

impl Form {
    fn read(html: &str) -> Result<Form, OwnerError> {
        let contract = |what: &str| OwnerError::PageContract(format!("no {what} on the page"));
        let form = tags(html, "form")
            .into_iter()
            .next()
            .ok_or_else(|| contract("<form>"))?;
        let action = attr(&form, "action").unwrap_or_default();
        let inputs = tags(html, "input");
        for id in ["username", "password"] {
            if !inputs.iter().any(|t| attr(t, "id").as_deref() == Some(id)) {
                return Err(contract(&format!("input #{id}")));
            }
        }
        let buttons = tags(html, "button");
        for value in ["approve", "deny"] {
            let found = buttons.iter().any(|b| {
                attr(b, "name").as_deref() == Some("decision")
                    && attr(b, "value").as_deref() == Some(value)
            });
            if !found {
                return Err(contract(&format!("button[name=decision][value={value}]")));
            }
        }
        let hidden = inputs
            .iter()
            .filter(|t| attr(t, "type").as_deref() == Some("hidden"))
            .filter_map(|t| Some((attr(t, "name")?, attr(t, "value").unwrap_or_default())))
            .collect();
        Ok(Form { action, hidden })
    }
}

/// The opening tags `<name …>` in `html`.
fn tags(html: &str, name: &str) -> Vec<String> {
    let open = format!("<{name}");
    let mut found = Vec::new();
    let mut rest = html;
    while let Some(start) = rest.find(&open) {
        let tail = &rest[start + open.len()..];
        let Some(end) = tail.find('>') else { break };
        if tail.starts_with([' ', '>', '\n', '\t']) {
            found.push(tail[..end].to_string());
        }
        rest = &tail[end..];
    }
    found
}

/// A double-quoted attribute's value, unescaped.
fn attr(tag: &str, name: &str) -> Option<String> {
    let key = format!(" {name}=\"");
    let start = tag.find(&key)? + key.len();
    let end = tag[start..].find('"')? + start;
    Some(unescape(&tag[start..end]))
}

fn unescape(text: &str) -> String {
    text.replace("&quot;", "\"")
        .replace("&#39;", "'")
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&amp;", "&")
}

/// The message an error page or a failed login shows.
fn page_message(html: &str) -> String {
    let marker = "role=\"alert\">";
    match html.find(marker) {
        Some(i) => {
            let rest = &html[i + marker.len()..];
            unescape(&rest[..rest.find('<').unwrap_or(rest.len())])
        }
        None => html.chars().take(200).collect(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pages;

    #[test]
    fn escape_and_unescape_round_trip() {
        let s = "a&b<c>\"d\"'e'";
        assert_eq!(unescape(&pages::escape(s)), s);
    }
}
