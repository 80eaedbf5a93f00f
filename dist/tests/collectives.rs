//! Real c10d collectives between processes on loopback: the test binary starts itself once per rank (the rank's
//! role in `CLIPSTREAM_DIST_ROLE`), with torchrun's variables.

use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use clipstream_dist::{Backend, ProcessGroup, Rendezvous};
use tch::{Kind, Tensor};

const ROLE: &str = "CLIPSTREAM_DIST_ROLE";

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").expect("bind").local_addr().expect("addr").port()
}

fn spawn_rank(test: &str, role: &str, rank: usize, world: usize, port: u16) -> Child {
    Command::new(std::env::current_exe().expect("test binary"))
        .args(["--exact", test, "--nocapture", "--test-threads=1"])
        .env(ROLE, role)
        .env("RANK", rank.to_string())
        .env("WORLD_SIZE", world.to_string())
        .env("MASTER_ADDR", "127.0.0.1")
        .env("MASTER_PORT", port.to_string())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn rank")
}

/// Waits for `child` at most `limit` (a hang guard, not a timing check); kills it and fails past that.
fn finish(mut child: Child, limit: Duration) -> (bool, String) {
    let started = Instant::now();
    loop {
        if let Some(status) = child.try_wait().expect("wait") {
            let output = child.wait_with_output().expect("output");
            let text =
                format!("{}{}", String::from_utf8_lossy(&output.stdout), String::from_utf8_lossy(&output.stderr));
            return (status.success(), text);
        }
        if started.elapsed() > limit {
            let _ = child.kill();
            panic!("rank still running after {limit:?}: a hang");
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

fn group(timeout: Duration) -> ProcessGroup {
    let rendezvous = Rendezvous::from_env().expect("variables").expect("distributed");
    ProcessGroup::connect(&rendezvous, Backend::Gloo, timeout).expect("rendezvous")
}

#[test]
fn gloo_collectives_agree_across_two_processes() {
    if std::env::var(ROLE).as_deref() == Ok("collectives") {
        let group = group(Duration::from_secs(60));
        let rank = group.rank() as f32;
        let mut shared = Tensor::from_slice(&[rank + 1.0; 4]);
        group.broadcast(&mut shared, 0).expect("broadcast").wait().expect("wait");
        assert_eq!(Vec::<f32>::try_from(&shared).expect("vec"), vec![1.0; 4], "rank 0's tensor everywhere");
        let mut buckets: Vec<Tensor> = (0..3).map(|b| Tensor::from_slice(&[rank + b as f32, 1.0])).collect();
        let works: Vec<_> = buckets.iter_mut().map(|t| group.all_reduce_sum(t).expect("start")).collect();
        for work in works {
            work.wait().expect("all_reduce");
        }
        for (b, bucket) in buckets.iter().enumerate() {
            assert_eq!(Vec::<f32>::try_from(bucket).expect("vec"), vec![1.0 + 2.0 * b as f32, 2.0], "sum over ranks");
        }
        let mine = Tensor::full([1, 2], group.rank() as i64 + 10, (Kind::Int64, tch::Device::Cpu));
        let all = group.all_gather(&mine).expect("all_gather");
        assert_eq!(Vec::<i64>::try_from(all.flatten(0, -1)).expect("vec"), vec![10, 10, 11, 11], "rank order");
        group.barrier().expect("barrier");
        println!("rank {} agreed", group.rank());
        return;
    }
    let port = free_port();
    let ranks: Vec<Child> =
        (0..2).map(|r| spawn_rank("gloo_collectives_agree_across_two_processes", "collectives", r, 2, port)).collect();
    for (rank, child) in ranks.into_iter().enumerate() {
        let (ok, output) = finish(child, Duration::from_secs(120));
        assert!(ok && output.contains(&format!("rank {rank} agreed")), "rank {rank}:\n{output}");
    }
}

#[test]
fn a_dead_peer_is_an_error_not_a_hang() {
    match std::env::var(ROLE).as_deref() {
        Ok("survivor") => {
            let group = group(Duration::from_secs(30));
            let mut t = Tensor::from_slice(&[1.0_f32]);
            let error = group.all_reduce_sum(&mut t).and_then(|w| w.wait()).expect_err("the peer is gone");
            println!("survivor error: {error}");
            return;
        }
        Ok("dies") => {
            let _group = group(Duration::from_secs(30));
            std::process::exit(3);
        }
        _ => {}
    }
    let port = free_port();
    let test = "a_dead_peer_is_an_error_not_a_hang";
    let survivor = spawn_rank(test, "survivor", 0, 2, port);
    let dies = spawn_rank(test, "dies", 1, 2, port);
    let (ok, output) = finish(survivor, Duration::from_secs(120));
    assert!(ok && output.contains("survivor error: all_reduce failed on rank 0"), "survivor:\n{output}");
    let (ok, _) = finish(dies, Duration::from_secs(30));
    assert!(!ok, "the dying rank exits with its error status");
}

#[test]
fn nccl_is_refused_clearly_without_it() {
    if ProcessGroup::has_nccl() && tch::Cuda::is_available() {
        return;
    }
    let rendezvous =
        Rendezvous { rank: 0, world: 1, local_rank: 0, local_world: 1, addr: "127.0.0.1".into(), port: free_port() };
    let error = ProcessGroup::connect(&rendezvous, Backend::Nccl, Duration::from_secs(10)).expect_err("no NCCL here");
    assert!(error.to_string().contains("rendezvous of rank 0 of 1"), "{error}");
}
