// Read-mostly memory maps of weight files. Pages come straight from the page cache (no copy); the map is
// private and writable, so code that updates a weight in place (training) gets its own copy of that
// page and never touches the file.
#pragma once
#include <atomic>
#include <cstddef>
#include <string>

namespace dsts {

struct Mapping {
  void* base = nullptr;
  size_t size = 0;
  std::atomic<int> refs{1};
};

// Maps the whole file; throws std::runtime_error with the system's reason.
Mapping* mapFile(const std::string& path);
void release(Mapping* m);  // drops one reference; unmaps at zero
// Faults [off, off + len) in (reading from disk if needed), spread over the threads.
void populate(Mapping* m, size_t off, size_t len);
// Returns [off, off + len) to the page cache (the data stays valid: it is read again on next touch).
void dropPages(Mapping* m, size_t off, size_t len);

}  // namespace dsts
