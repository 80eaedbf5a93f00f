//! Links libtorch so that clipstream-torch runs without LD_LIBRARY_PATH and keep libtorch_cuda (the
//! linker would drop it as unused, and CUDA would silently be unavailable). See docs/design-notes.md.
//!
//! Links tcmalloc too (Debian's libtcmalloc-minimal4, named by its file so no -dev package is needed): as a
//! library the executable needs, its `malloc` and `free` serve the whole process, libtorch's tensors included.
//! With glibc's allocator the CPU trainer spent about a fifth of its time in malloc, free and the page faults of
//! large tensors that glibc maps and unmaps on every step; with tcmalloc it trains ~1.35x faster (README,
//! "Training").

fn main() {
    let lib = std::env::var("DEP_TCH_LIBTORCH_LIB").expect("torch-sys reports its libtorch lib dir");
    println!("cargo:rustc-link-arg=-Wl,-rpath,{lib}");
    println!("cargo:rustc-link-arg=-Wl,--no-as-needed");
    println!("cargo:rustc-link-arg=-ltorch");
    // A link-lib (not a link-arg) lands before libc on the command line, so that its malloc comes first;
    // src/allocator.rs refers to it, so that --as-needed keeps it.
    println!("cargo:rustc-link-lib=dylib:+verbatim=libtcmalloc_minimal.so.4");
}
