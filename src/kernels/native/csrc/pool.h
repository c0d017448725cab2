// The worker pool behind every native kernel. The calling thread always works too, and it never
// waits for a worker to wake up: chunks are claimed from a shared counter, so a worker the OS has not
// scheduled yet (a loaded machine) simply finds nothing left, and the caller waits only for chunks a
// worker has actually taken. Workers spin briefly between calls (decode issues hundreds of small
// products per token), then sleep.
#pragma once
#include <cstdint>
#include <functional>

namespace dsts {

// Runs fn(0) … fn(n − 1), spread over the caller and up to `threads() − 1` workers.
void parallelFor(int64_t n, const std::function<void(int64_t)>& fn);

// Stops the workers (at exit, so none is left spinning).
void stopPool();

}  // namespace dsts
