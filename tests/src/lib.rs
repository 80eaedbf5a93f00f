//! Test harness shared by the end-to-end tests: locating the binary, the Python tools and the real test videos.
