//! Authentication and authorization seams: who is asking ([`Authenticator`]) and may they
//! ([`Authorizer`]). The defaults accept bearer tokens from a fixed table and allow every
//! authenticated user; RBAC plugs in behind the same trait.

use std::collections::HashMap;

use http::HeaderMap;

use crate::error::ApiError;

/// An authenticated user.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct UserInfo {
    /// The user name (`admin`, `system:serviceaccount:ns:name`).
    pub name: String,
    /// A unique id, when the authenticator has one.
    pub uid: String,
    /// Groups (`system:masters`, `system:authenticated`).
    pub groups: Vec<String>,
}

/// Finds the user a request comes from.
pub trait Authenticator: Send + Sync + 'static {
    /// The user, `Ok(None)` when the request carries no credentials this authenticator
    /// understands.
    ///
    /// # Errors
    /// `401 Unauthorized` for credentials that are present but wrong.
    fn authenticate(&self, headers: &HeaderMap) -> Result<Option<UserInfo>, ApiError>;
}

/// Bearer tokens from a fixed table (upstream's static token file).
#[derive(Clone, Debug, Default)]
pub struct TokenAuthenticator {
    tokens: HashMap<String, UserInfo>,
}

impl TokenAuthenticator {
    /// An authenticator that knows no token.
    pub fn new() -> Self {
        TokenAuthenticator::default()
    }

    /// Accepts `token` as `user`.
    #[must_use]
    pub fn with_token(mut self, token: impl Into<String>, user: UserInfo) -> Self {
        self.tokens.insert(token.into(), user);
        self
    }
}

impl Authenticator for TokenAuthenticator {
    fn authenticate(&self, headers: &HeaderMap) -> Result<Option<UserInfo>, ApiError> {
        let Some(value) = headers.get(http::header::AUTHORIZATION) else {
            return Ok(None);
        };
        let value = value.to_str().map_err(|_| ApiError::unauthorized())?;
        let Some(token) = value
            .strip_prefix("Bearer ")
            .or_else(|| value.strip_prefix("bearer "))
        else {
            return Ok(None);
        };
        match self.tokens.get(token.trim()) {
            Some(user) => {
                let mut user = user.clone();
                if !user.groups.iter().any(|g| g == "system:authenticated") {
                    user.groups.push("system:authenticated".to_owned());
                }
                Ok(Some(user))
            }
            None => Err(ApiError::unauthorized()),
        }
    }
}

/// What a request wants to do, as an authorizer sees it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RequestAttributes {
    /// The verb (`get`, `list`, `watch`, `create`, `update`, `patch`, `delete`,
    /// `deletecollection`), or the HTTP method in lower case for non-resource requests.
    pub verb: String,
    /// API group of the resource.
    pub group: String,
    /// The resource (`pods`); empty for non-resource requests.
    pub resource: String,
    /// The subresource (`status`); empty when none.
    pub subresource: String,
    /// The namespace; empty for cluster-scoped requests.
    pub namespace: String,
    /// The object's name; empty for collections.
    pub name: String,
    /// The path, for non-resource requests (`/version`, `/healthz`).
    pub path: String,
}

/// An authorization decision.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Decision {
    /// Allowed.
    Allow,
    /// Denied, with a reason shown to the user.
    Deny(String),
}

/// Decides whether a user may do something.
pub trait Authorizer: Send + Sync + 'static {
    /// The decision for `user` doing `request`.
    fn authorize(&self, user: &UserInfo, request: &RequestAttributes) -> Decision;
}

/// Allows every authenticated request.
#[derive(Clone, Copy, Debug, Default)]
pub struct AllowAuthenticated;

impl Authorizer for AllowAuthenticated {
    fn authorize(&self, _user: &UserInfo, _request: &RequestAttributes) -> Decision {
        Decision::Allow
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(auth: &str) -> HeaderMap {
        let mut h = HeaderMap::new();
        h.insert(http::header::AUTHORIZATION, auth.parse().unwrap());
        h
    }

    #[test]
    fn bearer_tokens_map_to_users_and_wrong_ones_are_refused() {
        let a = TokenAuthenticator::new().with_token(
            "s3cret",
            UserInfo {
                name: "admin".into(),
                groups: vec!["system:masters".into()],
                ..UserInfo::default()
            },
        );
        let user = a.authenticate(&headers("Bearer s3cret")).unwrap().unwrap();
        assert_eq!(user.name, "admin");
        assert!(user.groups.contains(&"system:authenticated".to_owned()));
        assert_eq!(
            a.authenticate(&headers("Bearer nope")).unwrap_err().code(),
            401
        );
        assert_eq!(a.authenticate(&HeaderMap::new()).unwrap(), None);
        assert_eq!(a.authenticate(&headers("Basic eDp5")).unwrap(), None);
    }
}
