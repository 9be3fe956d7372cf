//! The process's memory allocator: mimalloc. Against glibc's malloc it made the
//! token endpoints 15–60 % faster (malloc and free were a sixth of a refresh's CPU
//! time; see BENCHMARKS.md). SQLite and OpenSSL keep their own use of the C library's
//! malloc.

#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// Returns the memory this thread freed to the system now. mimalloc keeps freed
/// memory for reuse and returns it lazily, on later allocations in the same thread;
/// a password hash frees 19 MiB on a blocking-pool thread that may not allocate
/// again for a long time, so without this every such thread would hold that much.
pub fn release_freed_memory() {
    // SAFETY: mi_collect only walks and purges mimalloc's own free lists.
    unsafe { libmimalloc_sys::mi_collect(true) }
}
