// Preloaded (node --import) into the benchmark's server children: if the benchmark process dies
// without stopping them (SIGKILL, a crash), the child is re-parented and stops itself within a
// second through its own SIGTERM handling, or exits 10 s later if that hangs.
// Costs one getppid per second; nothing on the request path.
const parent = process.ppid;
const watch = setInterval(() => {
  if (process.ppid === parent) return;
  clearInterval(watch);
  process.kill(process.pid, 'SIGTERM');
  setTimeout(() => process.exit(1), 10_000).unref();
}, 1_000);
watch.unref();
