//! Links libtorch so that clipstream-torch runs without LD_LIBRARY_PATH and keep libtorch_cuda (the
//! linker would drop it as unused, and CUDA would silently be unavailable). See docs/design-notes.md.

fn main() {
    let lib = std::env::var("DEP_TCH_LIBTORCH_LIB").expect("torch-sys reports its libtorch lib dir");
    println!("cargo:rustc-link-arg=-Wl,-rpath,{lib}");
    println!("cargo:rustc-link-arg=-Wl,--no-as-needed");
    println!("cargo:rustc-link-arg=-ltorch");
}
