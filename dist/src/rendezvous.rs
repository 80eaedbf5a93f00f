//! Where a rank finds the others: torchrun's variables (`RANK`, `WORLD_SIZE`, `LOCAL_RANK`, `MASTER_ADDR`,
//! `MASTER_PORT`), and which c10d backend carries the collectives.

use crate::DistError;

/// The c10d backend of a process group.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    /// Gloo: CPU tensors over TCP.
    Gloo,
    /// NCCL: CUDA tensors over NVLink/InfiniBand/TCP.
    Nccl,
}

impl Backend {
    pub fn name(self) -> &'static str {
        match self {
            Self::Gloo => "gloo",
            Self::Nccl => "nccl",
        }
    }
}

/// This process's place in a run of `world` ranks and the rank-0 TCPStore they meet at.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rendezvous {
    pub rank: usize,
    pub world: usize,
    /// The rank's index on its node (picks its GPU); 0 when unset.
    pub local_rank: usize,
    /// Ranks on this node (`LOCAL_WORLD_SIZE`; `WORLD_SIZE` when unset): they share its CPU cores.
    pub local_world: usize,
    pub addr: String,
    pub port: u16,
}

impl Rendezvous {
    /// The rendezvous of the process environment; `None` when `WORLD_SIZE` is unset (a plain one-process run).
    pub fn from_env() -> Result<Option<Self>, DistError> {
        Self::from_vars(|name| std::env::var(name).ok())
    }

    /// The rendezvous described by `var` (the environment's variables, or a test's).
    pub fn from_vars(var: impl Fn(&str) -> Option<String>) -> Result<Option<Self>, DistError> {
        let Some(world) = var("WORLD_SIZE") else {
            if var("RANK").is_some() {
                return Err(DistError::Incomplete { name: "RANK", missing: "WORLD_SIZE" });
            }
            return Ok(None);
        };
        let required =
            |name: &'static str| var(name).ok_or(DistError::Incomplete { name: "WORLD_SIZE", missing: name });
        let world = number("WORLD_SIZE", &world)?;
        let rank = number("RANK", &required("RANK")?)?;
        let local_rank = var("LOCAL_RANK").map_or(Ok(0), |v| number("LOCAL_RANK", &v))?;
        let local_world = var("LOCAL_WORLD_SIZE").map_or(Ok(world), |v| number("LOCAL_WORLD_SIZE", &v))?.max(1);
        let addr = required("MASTER_ADDR")?;
        let port = required("MASTER_PORT")?;
        let invalid = |name: &'static str, value: &str, reason: &str| DistError::Variable {
            name,
            value: value.to_owned(),
            reason: reason.to_owned(),
        };
        if world == 0 {
            return Err(invalid("WORLD_SIZE", "0", "at least one rank"));
        }
        if rank >= world {
            return Err(invalid("RANK", &rank.to_string(), &format!("must be below WORLD_SIZE={world}")));
        }
        if addr.is_empty() || addr.len() > 253 || addr.chars().any(|c| c.is_whitespace() || c.is_control()) {
            return Err(invalid("MASTER_ADDR", &addr, "a host name or IP address"));
        }
        let port = port
            .parse::<u16>()
            .ok()
            .filter(|p| *p > 0)
            .ok_or_else(|| invalid("MASTER_PORT", &port, "a TCP port 1-65535"))?;
        Ok(Some(Self { rank, world, local_rank, local_world, addr, port }))
    }
}

fn number(name: &'static str, value: &str) -> Result<usize, DistError> {
    value.trim().parse().map_err(|_| DistError::Variable {
        name,
        value: value.to_owned(),
        reason: "a non-negative integer".to_owned(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vars(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
        let map: std::collections::HashMap<String, String> =
            pairs.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect();
        move |name| map.get(name).cloned()
    }

    #[test]
    fn reads_torchrun_variables() {
        let full = [
            ("RANK", "1"),
            ("WORLD_SIZE", "2"),
            ("LOCAL_RANK", "1"),
            ("MASTER_ADDR", "10.0.0.1"),
            ("MASTER_PORT", "29500"),
        ];
        let rdv = Rendezvous::from_vars(vars(&full)).expect("valid").expect("distributed");
        assert_eq!(
            rdv,
            Rendezvous { rank: 1, world: 2, local_rank: 1, local_world: 2, addr: "10.0.0.1".into(), port: 29500 }
        );
        assert_eq!(Rendezvous::from_vars(vars(&[])).expect("valid"), None, "no WORLD_SIZE: one process");
    }

    #[test]
    fn refuses_incomplete_or_invalid_variables() {
        let base = [("WORLD_SIZE", "2"), ("MASTER_ADDR", "host"), ("MASTER_PORT", "29500")];
        let with = |extra: &[(&'static str, &'static str)]| {
            let mut all: Vec<(&str, &str)> = base.to_vec();
            all.extend_from_slice(extra);
            Rendezvous::from_vars(vars(&all))
        };
        assert!(matches!(with(&[]), Err(DistError::Incomplete { missing: "RANK", .. })));
        assert!(matches!(with(&[("RANK", "2")]), Err(DistError::Variable { name: "RANK", .. })));
        assert!(matches!(with(&[("RANK", "x")]), Err(DistError::Variable { name: "RANK", .. })));
        assert!(matches!(
            Rendezvous::from_vars(vars(&[("RANK", "0")])),
            Err(DistError::Incomplete { missing: "WORLD_SIZE", .. })
        ));
        let bad_port = [("RANK", "0"), ("WORLD_SIZE", "1"), ("MASTER_ADDR", "h"), ("MASTER_PORT", "70000")];
        assert!(matches!(Rendezvous::from_vars(vars(&bad_port)), Err(DistError::Variable { name: "MASTER_PORT", .. })));
        let bad_addr = [("RANK", "0"), ("WORLD_SIZE", "1"), ("MASTER_ADDR", "a b"), ("MASTER_PORT", "1")];
        assert!(matches!(Rendezvous::from_vars(vars(&bad_addr)), Err(DistError::Variable { name: "MASTER_ADDR", .. })));
    }
}
