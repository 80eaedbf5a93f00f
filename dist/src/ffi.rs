//! The shim's C functions (src/shim.cpp). Tensor arguments are tch's `C_tensor` pointers, i.e. `at::Tensor*`.

use std::ffi::{c_char, c_int};

use torch_sys::C_tensor;

/// An opaque c10d store + backend.
#[repr(C)]
pub struct CsGroup {
    _private: [u8; 0],
}

/// An opaque c10d work handle (a collective in flight).
#[repr(C)]
pub struct CsWork {
    _private: [u8; 0],
}

/// An opaque set of gradient hooks that sum gradients over ranks during the backward pass.
#[repr(C)]
pub struct CsSync {
    _private: [u8; 0],
}

unsafe extern "C" {
    pub fn cs_free_error(err: *mut c_char);
    pub fn cs_has_nccl() -> c_int;
    pub fn cs_group_new(
        backend: *const c_char,
        host: *const c_char,
        port: u16,
        rank: c_int,
        world: c_int,
        timeout_ms: i64,
        err: *mut *mut c_char,
    ) -> *mut CsGroup;
    pub fn cs_group_free(group: *mut CsGroup);
    pub fn cs_broadcast(
        group: *mut CsGroup,
        tensor: *const C_tensor,
        root: c_int,
        err: *mut *mut c_char,
    ) -> *mut CsWork;
    pub fn cs_all_reduce_sum(group: *mut CsGroup, tensor: *const C_tensor, err: *mut *mut c_char) -> *mut CsWork;
    pub fn cs_all_gather(
        group: *mut CsGroup,
        input: *const C_tensor,
        output: *const C_tensor,
        world: c_int,
        err: *mut *mut c_char,
    ) -> *mut CsWork;
    pub fn cs_barrier(group: *mut CsGroup, err: *mut *mut c_char) -> *mut CsWork;
    pub fn cs_work_wait(work: *mut CsWork, err: *mut *mut c_char) -> c_int;
    pub fn cs_work_free(work: *mut CsWork);
    pub fn cs_sync_new(
        group: *mut CsGroup,
        params: *const *const C_tensor,
        n: usize,
        bucket_bytes: i64,
        err: *mut *mut c_char,
    ) -> *mut CsSync;
    pub fn cs_sync_finish(sync: *mut CsSync, early: *mut i64, total: *mut i64, err: *mut *mut c_char) -> c_int;
    pub fn cs_sync_free(sync: *mut CsSync);
}
