//! The process's memory allocator: mimalloc. glibc's malloc and free were a sixth
//! of a refresh's CPU time (3 % with mimalloc); userinfo and introspection take
//! about 15 % less CPU per request, and password hashes can reuse their memory (see
//! BENCHMARKS.md). SQLite and OpenSSL keep using the C library's malloc.

#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// Returns freed memory to the system now. mimalloc keeps freed memory for reuse
/// and returns it lazily (a second later, when it next allocates from the OS), so
/// after a burst of 19 MiB password hashes an idle server would keep them.
pub fn release_freed_memory() {
    // SAFETY: mi_collect only walks and purges mimalloc's own free lists.
    unsafe { libmimalloc_sys::mi_collect(true) }
}
