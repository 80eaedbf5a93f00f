//! The process's allocator is tcmalloc: build.rs links it as a library the executable needs, ahead of libc, so
//! that its `malloc` and `free` serve every allocation, libtorch's tensors and Rust's own included. Referring to
//! one of its functions here is what keeps the linker from dropping it as unused.

use std::ffi::{CStr, c_char, c_int};

unsafe extern "C" {
    /// gperftools' version: fills major and minor, points `patch` at a static string and returns the static full
    /// name ("gperftools 2.10").
    fn tc_version(major: *mut c_int, minor: *mut c_int, patch: *mut *const c_char) -> *const c_char;
}

/// The allocator's name and version, e.g. "gperftools 2.10".
pub fn version() -> String {
    let (mut major, mut minor, mut patch) = (0, 0, std::ptr::null());
    // SAFETY: tc_version only writes the three out-parameters, which point at live locals, and returns a pointer
    // to a NUL-terminated string in tcmalloc's static data (never freed).
    let name = unsafe { CStr::from_ptr(tc_version(&mut major, &mut minor, &mut patch)) };
    name.to_string_lossy().into_owned()
}

#[cfg(test)]
mod tests {
    use std::ffi::{c_char, c_void};

    unsafe extern "C" {
        fn dlsym(handle: *mut c_void, symbol: *const c_char) -> *mut c_void;
    }

    /// What the process's global symbol lookup finds for `name` (RTLD_DEFAULT).
    fn resolved(name: &CStr) -> usize {
        // SAFETY: RTLD_DEFAULT (null) asks the default lookup order; `name` is a NUL-terminated string that
        // outlives the call; the result is only compared as an address.
        unsafe { dlsym(std::ptr::null_mut(), name.as_ptr()) as usize }
    }

    use std::ffi::CStr;

    #[test]
    fn malloc_is_tcmalloc() {
        assert!(super::version().starts_with("gperftools"), "{}", super::version());
        let (malloc, tc_malloc) = (resolved(c"malloc"), resolved(c"tc_malloc"));
        assert!(tc_malloc != 0, "tcmalloc is not loaded");
        assert_eq!(malloc, tc_malloc, "malloc resolves to another allocator than tcmalloc");
    }
}
