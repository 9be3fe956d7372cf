//! The signing-key lifecycle next → current → retired → removed, per algorithm.
//! `plan` decides what is due (pure, unit-tested); `tick` carries it out with
//! guarded writes, so of several nodes doing the same exactly one succeeds.

use crate::store::signing_keys::{
    StoredKey, STATE_CURRENT, STATE_NEXT, STATE_REMOVED, STATE_RETIRED,
};

/// The algorithms Gatehouse signs with; ES256 is the default.
pub const ALGS: &[&str] = &["ES256", "RS256"];

#[derive(Debug, Clone, Copy)]
pub struct Policy {
    pub rotation_period: i64,
    pub prepublish_lead: i64,
    /// How long after retirement a key is still needed to verify tokens.
    pub retire_after: i64,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Action {
    /// A fresh installation: the first key signs at once (nothing was signed before).
    CreateCurrent { alg: String, generation: i64 },
    /// Publish the successor now; it signs from `activates_at`.
    CreateNext {
        alg: String,
        generation: i64,
        activates_at: i64,
    },
    /// The successor takes over; the old current key retires.
    Promote {
        next_kid: String,
        current_kid: Option<String>,
    },
    /// Every token the retired key signed has expired.
    Remove { kid: String },
}

pub fn plan(keys: &[StoredKey], now: i64, policy: &Policy) -> Vec<Action> {
    let mut actions = Vec::new();
    for alg in ALGS {
        let of_alg: Vec<&StoredKey> = keys.iter().filter(|k| k.alg == *alg).collect();
        let generation = of_alg.iter().map(|k| k.generation).max().unwrap_or(0) + 1;
        let newest = |state: &str| {
            of_alg
                .iter()
                .filter(|k| k.state == state)
                .max_by_key(|k| k.generation)
                .copied()
        };
        match (newest(STATE_CURRENT), newest(STATE_NEXT)) {
            (None, None) => actions.push(Action::CreateCurrent {
                alg: alg.to_string(),
                generation,
            }),
            // The current key was revoked: its successor takes over at once.
            (None, Some(next)) => actions.push(Action::Promote {
                next_kid: next.kid.clone(),
                current_kid: None,
            }),
            (Some(current), None) => actions.push(Action::CreateNext {
                alg: alg.to_string(),
                generation,
                activates_at: (current.activates_at + policy.rotation_period)
                    .max(now + policy.prepublish_lead),
            }),
            (Some(current), Some(next)) if next.activates_at <= now => {
                actions.push(Action::Promote {
                    next_kid: next.kid.clone(),
                    current_kid: Some(current.kid.clone()),
                })
            }
            _ => {}
        }
        for retired in of_alg.iter().filter(|k| k.state == STATE_RETIRED) {
            if retired.retires_at.unwrap_or(now) + policy.retire_after <= now {
                actions.push(Action::Remove {
                    kid: retired.kid.clone(),
                });
            }
        }
    }
    actions
}

/// Whether a key appears in the JWKS.
pub fn is_published(key: &StoredKey) -> bool {
    key.state != STATE_REMOVED
}

#[cfg(test)]
mod tests {
    use super::*;

    const POLICY: Policy = Policy {
        rotation_period: 1000,
        prepublish_lead: 100,
        retire_after: 50,
    };

    fn key(kid: &str, alg: &str, generation: i64, state: &str, activates_at: i64) -> StoredKey {
        StoredKey {
            kid: kid.into(),
            alg: alg.into(),
            generation,
            state: state.into(),
            private_key: String::new(),
            public_jwk: String::new(),
            created_at: 0,
            activates_at,
            retires_at: None,
        }
    }

    #[test]
    fn a_new_installation_gets_a_current_key_per_algorithm() {
        let actions = plan(&[], 0, &POLICY);
        assert_eq!(
            actions,
            vec![
                Action::CreateCurrent {
                    alg: "ES256".into(),
                    generation: 1
                },
                Action::CreateCurrent {
                    alg: "RS256".into(),
                    generation: 1
                },
            ]
        );
    }

    #[test]
    fn the_next_key_is_published_a_lead_before_it_signs() {
        let keys = [
            key("e1", "ES256", 1, STATE_CURRENT, 0),
            key("r1", "RS256", 1, STATE_CURRENT, 0),
        ];
        let actions = plan(&keys, 10, &POLICY);
        assert_eq!(
            actions[0],
            Action::CreateNext {
                alg: "ES256".into(),
                generation: 2,
                activates_at: 1000
            }
        );
        // Late (say after downtime): still a full lead after publication.
        let actions = plan(&keys, 950, &POLICY);
        assert_eq!(
            actions[0],
            Action::CreateNext {
                alg: "ES256".into(),
                generation: 2,
                activates_at: 1050
            }
        );
    }

    #[test]
    fn promotion_happens_when_due_and_retired_keys_leave_after_their_tokens() {
        let mut keys = vec![
            key("e1", "ES256", 1, STATE_CURRENT, 0),
            key("e2", "ES256", 2, STATE_NEXT, 1000),
            key("r1", "RS256", 1, STATE_CURRENT, 0),
            key("r2", "RS256", 2, STATE_NEXT, 5000),
        ];
        assert!(plan(&keys, 999, &POLICY).is_empty());
        assert_eq!(
            plan(&keys, 1000, &POLICY),
            vec![Action::Promote {
                next_kid: "e2".into(),
                current_kid: Some("e1".into())
            }]
        );
        keys[0].state = STATE_RETIRED.into();
        keys[0].retires_at = Some(1000);
        keys[1].state = STATE_CURRENT.into();
        let actions = plan(&keys, 1049, &POLICY);
        assert!(!actions.iter().any(|a| matches!(a, Action::Remove { .. })));
        let actions = plan(&keys, 1050, &POLICY);
        assert!(actions.contains(&Action::Remove { kid: "e1".into() }));
        assert!(actions.contains(&Action::CreateNext {
            alg: "ES256".into(),
            generation: 3,
            activates_at: 2000
        }));
    }

    #[test]
    fn a_revoked_current_key_is_replaced_at_once() {
        let keys = [
            key("e1", "ES256", 1, STATE_REMOVED, 0),
            key("e2", "ES256", 2, STATE_NEXT, 1000),
            key("r1", "RS256", 1, STATE_CURRENT, 0),
            key("r2", "RS256", 2, STATE_NEXT, 1000),
        ];
        assert_eq!(
            plan(&keys, 10, &POLICY),
            vec![Action::Promote {
                next_kid: "e2".into(),
                current_kid: None
            }]
        );
    }
}
