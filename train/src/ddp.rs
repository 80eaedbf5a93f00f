//! Data parallelism over c10d (`clipstream-dist`): a run of N ranks, each with a full model and a disjoint share
//! of the shards. Rank 0's parameters are broadcast at start; every step each rank gathers all ranks' embeddings
//! (so its InfoNCE sees the global batch as negatives), computes its share of the global loss, and the
//! gradients are summed over ranks in buckets, several in flight at once. See docs/distributed.md for the
//! arithmetic that makes N ranks of batch B equal one rank of batch N*B.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use clipstream_dist::{Backend, GradSync, ProcessGroup, Rendezvous};
use clipstream_schemas::config::{DistBackend, TrainConfig};
use tch::nn::VarStore;
use tch::{Device, Kind, Tensor};

use crate::error::TrainError;

/// This process's rank of a data-parallel run.
#[derive(Debug)]
pub struct DataParallel {
    group: ProcessGroup,
    bucket_bytes: usize,
    /// The gradient hooks, once [`DataParallel::prepare`] installed them.
    sync: Option<GradSync>,
    /// Seconds spent in collectives since the last [`DataParallel::take_comm_seconds`].
    comm: f64,
    /// Of the last step's gradient buckets: (started by the hooks during the backward pass, all).
    buckets: (usize, usize),
}

/// Rows of all ranks: `all` holds them in rank order, this rank's start at `offset`.
#[derive(Debug)]
pub struct Gathered {
    pub all: Tensor,
    pub offset: i64,
}

impl DataParallel {
    /// Joins the run this process was launched into (torchrun's variables) and picks its device (GPU
    /// `LOCAL_RANK` when CUDA is available); `None` for a plain run (no `WORLD_SIZE`).
    pub fn join(config: &TrainConfig) -> Result<Option<(Self, Device)>, TrainError> {
        let Some(rendezvous) = Rendezvous::from_env()? else { return Ok(None) };
        let cuda = tch::Cuda::is_available();
        let backend = match config.dist_backend {
            DistBackend::Auto if cuda => Backend::Nccl,
            DistBackend::Auto | DistBackend::Gloo => Backend::Gloo,
            DistBackend::Nccl if cuda => Backend::Nccl,
            DistBackend::Nccl => return Err(TrainError::NcclWithoutCuda),
        };
        let device = if cuda { Device::Cuda(rendezvous.local_rank) } else { Device::Cpu };
        if !cuda && std::env::var_os("OMP_NUM_THREADS").is_none() {
            // Ranks of one node share its cores; libtorch's default of one thread per core in every rank
            // oversubscribes them (5x slower steps measured with 2 ranks on 2 cores). torchrun does the same.
            let cores = std::thread::available_parallelism().map_or(1, std::num::NonZero::get);
            tch::set_num_threads((cores / rendezvous.local_world).max(1) as i32);
        }
        let timeout = Duration::from_secs(config.dist_timeout_s);
        let group = ProcessGroup::connect(&rendezvous, backend, timeout)?;
        tracing::info!(rank = rendezvous.rank, world = rendezvous.world, backend = backend.name(), ?device, "joined");
        Ok(Some((
            Self { group, bucket_bytes: config.dist_bucket_mb << 20, sync: None, comm: 0.0, buckets: (0, 0) },
            device,
        )))
    }

    pub fn rank(&self) -> usize {
        self.group.rank()
    }

    pub fn world(&self) -> usize {
        self.group.world()
    }

    /// Seconds spent in collectives since the last call.
    pub fn take_comm_seconds(&mut self) -> f64 {
        std::mem::take(&mut self.comm)
    }

    /// Of the last step's gradient buckets: (started during the backward pass, all).
    pub fn buckets(&self) -> (usize, usize) {
        self.buckets
    }

    /// Makes every variable of `vs` (trainable or not) rank 0's, and installs the hooks that sum the trainable
    /// ones' gradients over ranks during each backward pass (buckets of `train.dist_bucket_mb`, started as soon
    /// as their gradients are ready).
    pub fn prepare(&mut self, vs: &VarStore) -> Result<(), TrainError> {
        let variables = by_name(vs);
        let all: Vec<Tensor> = variables.values().map(Tensor::shallow_clone).collect();
        self.broadcast_in_buckets(&all)?;
        let trainable: Vec<Tensor> = variables.into_values().filter(Tensor::requires_grad).collect();
        self.sync = Some(self.group.grad_sync(&trainable, self.bucket_bytes)?);
        Ok(())
    }

    /// After a backward pass: waits for the gradient sums the hooks started (and starts the rest), leaving every
    /// trainable variable's gradient summed over ranks.
    pub fn sum_gradients(&mut self) -> Result<(), TrainError> {
        let started = Instant::now();
        self.buckets = self.sync.as_mut().ok_or(TrainError::NotPrepared)?.finish()?;
        self.comm += started.elapsed().as_secs_f64();
        Ok(())
    }

    /// Overwrites `tensors` with rank 0's, flattened into buckets of about `bucket_bytes` (one kind and device
    /// each), all started before the first is waited on.
    fn broadcast_in_buckets(&mut self, tensors: &[Tensor]) -> Result<(), TrainError> {
        let started = Instant::now();
        let mut groups: Vec<Vec<&Tensor>> = Vec::new();
        let mut bytes = 0;
        for tensor in tensors {
            let size = tensor.numel() * tensor.kind().elt_size_in_bytes();
            let fits = groups.last().and_then(|g| g.first()).is_some_and(|first| {
                bytes + size <= self.bucket_bytes && first.kind() == tensor.kind() && first.device() == tensor.device()
            });
            if !fits {
                groups.push(Vec::new());
                bytes = 0;
            }
            groups.last_mut().expect("a group was just pushed").push(tensor);
            bytes += size;
        }
        let mut flats: Vec<Tensor> = groups
            .iter()
            .map(|group| Tensor::cat(&group.iter().map(|t| t.detach().flatten(0, -1)).collect::<Vec<_>>(), 0))
            .collect();
        let works = flats.iter_mut().map(|flat| self.group.broadcast(flat, 0)).collect::<Result<Vec<_>, _>>()?;
        for (work, (group, flat)) in works.into_iter().zip(groups.iter().zip(&flats)) {
            work.wait()?;
            tch::no_grad(|| {
                let mut at = 0;
                for tensor in group {
                    let n = tensor.numel() as i64;
                    let mut target = tensor.shallow_clone();
                    target.copy_(&flat.narrow(0, at, n).view_as(tensor));
                    at += n;
                }
            });
        }
        self.comm += started.elapsed().as_secs_f64();
        Ok(())
    }

    /// All ranks' rows of `local` (`[b, ...]`, `b` may differ between ranks) in rank order, and where this rank's
    /// start. No gradient flows through the result.
    pub fn gather_rows(&mut self, local: &Tensor) -> Result<Gathered, TrainError> {
        let started = Instant::now();
        let device = local.device();
        let b = local.size()[0];
        let sizes = self.group.all_gather(&Tensor::from_slice(&[b]).to_device(device))?;
        let sizes = Vec::<i64>::try_from(&sizes.to_device(Device::Cpu)).map_err(TrainError::Model)?;
        let widest = sizes.iter().copied().max().unwrap_or(b).max(1);
        let local = local.detach();
        let padded = if b < widest {
            let mut shape = local.size();
            shape[0] = widest - b;
            let zeros = Tensor::zeros(shape.as_slice(), (local.kind(), device));
            Tensor::cat(&[local, zeros], 0)
        } else {
            local
        };
        let everything = self.group.all_gather(&padded.contiguous())?;
        let rows: Vec<i64> =
            sizes.iter().enumerate().flat_map(|(r, &n)| (0..n).map(move |i| r as i64 * widest + i)).collect();
        let all = everything.index_select(0, &Tensor::from_slice(&rows).to_device(device));
        let offset = sizes[..self.rank()].iter().sum();
        self.comm += started.elapsed().as_secs_f64();
        Ok(Gathered { all, offset })
    }

    /// Sums `tensor` over ranks in place.
    pub fn sum(&mut self, tensor: &mut Tensor) -> Result<(), TrainError> {
        let started = Instant::now();
        self.group.all_reduce_sum(tensor)?.wait()?;
        self.comm += started.elapsed().as_secs_f64();
        Ok(())
    }

    /// The sum over ranks of `value`.
    pub fn sum_scalar(&mut self, value: f64, device: Device) -> Result<f64, TrainError> {
        let mut t = Tensor::from_slice(&[value]).to_kind(Kind::Double).to_device(device);
        self.sum(&mut t)?;
        Ok(t.double_value(&[0]))
    }
}

/// The variables of `vs` by name: the same order on every rank.
fn by_name(vs: &VarStore) -> BTreeMap<String, Tensor> {
    vs.variables().into_iter().collect()
}
