//! The safe process group: a c10d backend joined through a TCPStore, and its collectives on tch tensors. The
//! collectives return a [`Work`] that runs in c10d's threads until waited on, so several can be in flight (the
//! trainer reduces gradient buckets this way). c10d holds its own handle on each tensor, so a tensor (and its
//! storage) stays alive while a collective uses it, whatever Rust drops.

use std::ffi::{CStr, CString, c_char, c_int};
use std::ptr::NonNull;
use std::time::Duration;

use tch::Tensor;

use crate::ffi;
use crate::{Backend, DistError, Rendezvous};

/// A joined c10d process group (one per process).
pub struct ProcessGroup {
    raw: NonNull<ffi::CsGroup>,
    rank: usize,
    world: usize,
    backend: Backend,
}

/// Gradient sums over ranks that start during the backward pass: hooks on the parameters' gradient
/// accumulators all-reduce a bucket as soon as its gradients are ready (in the same bucket order on every rank);
/// [`GradSync::finish`] after the backward pass completes the rest. It keeps its own handle on the group.
pub struct GradSync {
    raw: NonNull<ffi::CsSync>,
    rank: usize,
}

/// A collective in flight; [`Work::wait`] blocks until it is done (dropping it lets it finish unobserved).
pub struct Work<'g> {
    raw: NonNull<ffi::CsWork>,
    group: &'g ProcessGroup,
    op: &'static str,
}

impl std::fmt::Debug for ProcessGroup {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "ProcessGroup({} rank {}/{})", self.backend.name(), self.rank, self.world)
    }
}

/// Takes the shim's error string (and frees it).
fn take_error(err: *mut c_char) -> String {
    if err.is_null() {
        return "unknown error (no message)".to_owned();
    }
    // SAFETY: a non-null `err` is a NUL-terminated string the shim malloc'ed for this call; it is read once here
    // and freed by the shim's own free.
    let message = unsafe { CStr::from_ptr(err) }.to_string_lossy().into_owned();
    // SAFETY: `err` came from the shim's malloc and is not used after this.
    unsafe { ffi::cs_free_error(err) };
    message
}

impl ProcessGroup {
    /// Whether this build has the NCCL backend (it needs the CUDA headers at build time).
    pub fn has_nccl() -> bool {
        // SAFETY: a pure query of a compile-time constant.
        unsafe { ffi::cs_has_nccl() != 0 }
    }

    /// Joins the group of `rendezvous` (rank 0 hosts the TCPStore); blocks until all ranks arrived or `timeout`
    /// passed. The same timeout bounds every later collective, so a dead peer is an error, not a hang.
    pub fn connect(rendezvous: &Rendezvous, backend: Backend, timeout: Duration) -> Result<Self, DistError> {
        let failed = |message: String| DistError::Rendezvous {
            rank: rendezvous.rank,
            world: rendezvous.world,
            addr: rendezvous.addr.clone(),
            port: rendezvous.port,
            backend: backend.name(),
            message,
        };
        let name = CString::new(backend.name()).map_err(|e| failed(e.to_string()))?;
        let host = CString::new(rendezvous.addr.as_str()).map_err(|e| failed(e.to_string()))?;
        let mut err: *mut c_char = std::ptr::null_mut();
        // SAFETY: both strings are NUL-terminated and outlive the call; `err` is a valid out-pointer. The shim
        // catches every C++ exception and returns null with `err` set instead.
        let raw = unsafe {
            ffi::cs_group_new(
                name.as_ptr(),
                host.as_ptr(),
                rendezvous.port,
                rendezvous.rank as c_int,
                rendezvous.world as c_int,
                timeout.as_millis().min(i64::MAX as u128) as i64,
                &mut err,
            )
        };
        let raw = NonNull::new(raw).ok_or_else(|| failed(take_error(err)))?;
        Ok(Self { raw, rank: rendezvous.rank, world: rendezvous.world, backend })
    }

    pub fn rank(&self) -> usize {
        self.rank
    }

    pub fn world(&self) -> usize {
        self.world
    }

    pub fn backend(&self) -> Backend {
        self.backend
    }

    fn work(&self, op: &'static str, raw: *mut ffi::CsWork, err: *mut c_char) -> Result<Work<'_>, DistError> {
        let raw = NonNull::new(raw).ok_or_else(|| self.failed(op, take_error(err)))?;
        Ok(Work { raw, group: self, op })
    }

    fn failed(&self, op: &'static str, message: String) -> DistError {
        DistError::Collective { op, rank: self.rank, message }
    }

    fn dense(&self, op: &'static str, tensor: &Tensor) -> Result<(), DistError> {
        if tensor.is_contiguous() && tensor.numel() > 0 {
            Ok(())
        } else {
            Err(DistError::Shape { op, expected: "a contiguous, non-empty tensor".into(), got: format!("{tensor:?}") })
        }
    }

    /// Starts overwriting `tensor` on every rank with rank `root`'s.
    pub fn broadcast(&self, tensor: &mut Tensor, root: usize) -> Result<Work<'_>, DistError> {
        self.dense("broadcast", tensor)?;
        let mut err = std::ptr::null_mut();
        // SAFETY: `self.raw` is a live group; `tensor.as_ptr()` is a live at::Tensor that the shim copies (a
        // refcount) before returning; `err` is a valid out-pointer.
        let raw = unsafe { ffi::cs_broadcast(self.raw.as_ptr(), tensor.as_ptr(), root as c_int, &mut err) };
        self.work("broadcast", raw, err)
    }

    /// Starts replacing `tensor` on every rank with the element-wise sum over ranks.
    pub fn all_reduce_sum(&self, tensor: &mut Tensor) -> Result<Work<'_>, DistError> {
        self.dense("all_reduce", tensor)?;
        let mut err = std::ptr::null_mut();
        // SAFETY: as in `broadcast`.
        let raw = unsafe { ffi::cs_all_reduce_sum(self.raw.as_ptr(), tensor.as_ptr(), &mut err) };
        self.work("all_reduce", raw, err)
    }

    /// Every rank's `input` (same shape on all ranks) stacked along the first dimension in rank order:
    /// `[world * n, ...]`.
    pub fn all_gather(&self, input: &Tensor) -> Result<Tensor, DistError> {
        self.dense("all_gather", input)?;
        let mut shape = input.size();
        shape[0] *= self.world as i64;
        let output = Tensor::empty(shape.as_slice(), (input.kind(), input.device()));
        let mut err = std::ptr::null_mut();
        // SAFETY: `input` and `output` are live at::Tensors the shim copies; `output` is contiguous with a first
        // dimension of world * n, so its `world` chunks are the gather's outputs; `err` is a valid out-pointer.
        let raw = unsafe {
            ffi::cs_all_gather(self.raw.as_ptr(), input.as_ptr(), output.as_ptr(), self.world as c_int, &mut err)
        };
        self.work("all_gather", raw, err)?.wait()?;
        Ok(output)
    }

    /// Installs gradient hooks on `params` (leaf tensors that require grad: the same ones, in the same order, on
    /// every rank), summing their gradients over ranks in buckets of about `bucket_bytes`.
    pub fn grad_sync(&self, params: &[Tensor], bucket_bytes: usize) -> Result<GradSync, DistError> {
        let pointers: Vec<*const torch_sys::C_tensor> = params.iter().map(Tensor::as_ptr).collect();
        let mut err = std::ptr::null_mut();
        // SAFETY: `pointers` holds live at::Tensors (the shim copies them) and outlives the call; `err` is a valid
        // out-pointer. The hooks the shim installs refer to the sync object, which removes them before it is freed.
        let raw = unsafe {
            ffi::cs_sync_new(
                self.raw.as_ptr(),
                pointers.as_ptr(),
                pointers.len(),
                bucket_bytes.min(i64::MAX as usize) as i64,
                &mut err,
            )
        };
        let raw = NonNull::new(raw).ok_or_else(|| self.failed("grad_sync", take_error(err)))?;
        Ok(GradSync { raw, rank: self.rank })
    }

    /// Waits until every rank got here.
    pub fn barrier(&self) -> Result<(), DistError> {
        let mut err = std::ptr::null_mut();
        // SAFETY: `self.raw` is a live group; `err` is a valid out-pointer.
        let raw = unsafe { ffi::cs_barrier(self.raw.as_ptr(), &mut err) };
        self.work("barrier", raw, err)?.wait()
    }
}

impl GradSync {
    /// After a backward pass: starts the buckets the hooks did not start, waits for all, and leaves every
    /// parameter's gradient summed over ranks (a parameter without a gradient keeps none). Returns (buckets the
    /// hooks started during the backward pass, all buckets).
    pub fn finish(&mut self) -> Result<(usize, usize), DistError> {
        let (mut early, mut total, mut err) = (0_i64, 0_i64, std::ptr::null_mut());
        // SAFETY: `self.raw` is live (freed only in Drop); the three out-pointers are valid.
        let status = unsafe { ffi::cs_sync_finish(self.raw.as_ptr(), &mut early, &mut total, &mut err) };
        if status == 0 {
            Ok((early as usize, total as usize))
        } else {
            Err(DistError::Collective { op: "gradient all_reduce", rank: self.rank, message: take_error(err) })
        }
    }
}

impl Drop for GradSync {
    fn drop(&mut self) {
        // SAFETY: live; the shim removes its hooks from the accumulators before freeing it.
        unsafe { ffi::cs_sync_free(self.raw.as_ptr()) };
    }
}

impl std::fmt::Debug for GradSync {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "GradSync(rank {})", self.rank)
    }
}

impl Work<'_> {
    /// Blocks until the collective is done; a peer that died or a timeout is an error.
    pub fn wait(self) -> Result<(), DistError> {
        let raw = self.raw;
        let (group, op) = (self.group, self.op);
        std::mem::forget(self);
        let mut err = std::ptr::null_mut();
        // SAFETY: `raw` is a live work handle that `forget` kept from Drop; the shim frees it here.
        let status = unsafe { ffi::cs_work_wait(raw.as_ptr(), &mut err) };
        if status == 0 { Ok(()) } else { Err(group.failed(op, take_error(err))) }
    }
}

impl Drop for Work<'_> {
    fn drop(&mut self) {
        // SAFETY: a live work handle not waited on (wait forgets self); freeing it does not cancel the collective,
        // whose tensors c10d still holds.
        unsafe { ffi::cs_work_free(self.raw.as_ptr()) };
    }
}

impl Drop for ProcessGroup {
    fn drop(&mut self) {
        // SAFETY: the group is live and no Work borrows it any more (they borrow `self`).
        unsafe { ffi::cs_group_free(self.raw.as_ptr()) };
    }
}
