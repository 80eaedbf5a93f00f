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
fn gradient_hooks_sum_over_ranks_during_the_backward_pass() {
    if std::env::var(ROLE).as_deref() == Ok("hooks") {
        let group = group(Duration::from_secs(60));
        let factor = group.rank() as f64 + 1.0;
        let params: Vec<Tensor> = (0..4)
            .map(|i| Tensor::full([3], i as f64, (Kind::Double, tch::Device::Cpu)).set_requires_grad(true))
            .collect();
        let frozen = Tensor::ones([3], (Kind::Double, tch::Device::Cpu)).set_requires_grad(true);
        // One parameter per bucket (8 bytes cap), so every bucket can start on its own.
        let mut sync = group.grad_sync(&params, 8).expect("hooks");
        for step in 0..3 {
            // A chain, so the gradients become ready one after the other.
            let mut x = frozen.shallow_clone();
            for p in &params {
                x = &x * p + 1.0;
            }
            (x.sum(Kind::Double) * factor).backward();
            let (early, total) = sync.finish().expect("finish");
            assert_eq!(total, 4);
            if step > 0 {
                assert_eq!(early, total, "after the first step every bucket starts during the backward pass");
            }
            // Each rank's gradient is factor x the local one: the sum over ranks is 3x rank 0's.
            let local: Vec<Tensor> = {
                let ps: Vec<Tensor> = params.iter().map(|p| p.detach().set_requires_grad(true)).collect();
                let mut y = frozen.detach();
                for p in &ps {
                    y = &y * p + 1.0;
                }
                Tensor::run_backward(&[y.sum(Kind::Double)], &ps, false, false)
            };
            for (p, g) in params.iter().zip(&local) {
                assert!(p.grad().allclose(&(g * 3.0), 1e-12, 1e-12, false), "step {step}: summed over ranks");
            }
            for p in &params {
                let _ = p.grad().zero_();
            }
            println!("step {step}: {early} of {total} buckets started during the backward pass");
        }
        println!("rank {} summed", group.rank());
        return;
    }
    let port = free_port();
    let test = "gradient_hooks_sum_over_ranks_during_the_backward_pass";
    let ranks: Vec<Child> = (0..2).map(|r| spawn_rank(test, "hooks", r, 2, port)).collect();
    for (rank, child) in ranks.into_iter().enumerate() {
        let (ok, output) = finish(child, Duration::from_secs(120));
        assert!(ok && output.contains(&format!("rank {rank} summed")), "rank {rank}:\n{output}");
        output.lines().filter(|l| l.starts_with("step")).for_each(|l| println!("rank {rank} {l}"));
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
fn gloo_socket_ifname_picks_the_interface() {
    if std::env::var(ROLE).as_deref() == Ok("interface") {
        let rendezvous = Rendezvous::from_env().expect("variables").expect("distributed");
        match ProcessGroup::connect(&rendezvous, Backend::Gloo, Duration::from_secs(20)) {
            Ok(group) => {
                group.barrier().expect("barrier");
                println!("joined over the named interface");
            }
            Err(error) => println!("refused: {error}"),
        }
        return;
    }
    let test = "gloo_socket_ifname_picks_the_interface";
    for (interface, expected) in [("lo", "joined over the named interface"), ("no-such-if0", "refused: rendezvous")] {
        let mut command = Command::new(std::env::current_exe().expect("test binary"));
        command.args(["--exact", test, "--nocapture", "--test-threads=1"]).env(ROLE, "interface");
        command.env("RANK", "0").env("WORLD_SIZE", "1").env("MASTER_ADDR", "127.0.0.1");
        command.env("MASTER_PORT", free_port().to_string()).env("GLOO_SOCKET_IFNAME", interface);
        let child = command.stdout(Stdio::piped()).stderr(Stdio::piped()).spawn().expect("spawn");
        let (ok, output) = finish(child, Duration::from_secs(60));
        assert!(ok && output.contains(expected), "GLOO_SOCKET_IFNAME={interface}:\n{output}");
        if interface != "lo" {
            assert!(output.contains("no-such-if0"), "the error names the interface:\n{output}");
        }
    }
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
