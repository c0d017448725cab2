#include "mapping.h"
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cerrno>
#include <cstring>
#include <stdexcept>
#include "ops.h"
#include "pool.h"

namespace dsts {

Mapping* mapFile(const std::string& path) {
  const int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) throw std::runtime_error(path + ": " + std::strerror(errno));
  struct stat st;
  if (fstat(fd, &st) != 0) {
    const int e = errno;
    close(fd);
    throw std::runtime_error(path + ": " + std::strerror(e));
  }
  auto* m = new Mapping();
  m->size = size_t(st.st_size);
  if (m->size > 0) {
    m->base = mmap(nullptr, m->size, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, 0);
    if (m->base == MAP_FAILED) {
      const int e = errno;
      close(fd);
      delete m;
      throw std::runtime_error(path + ": mmap failed: " + std::strerror(e));
    }
  }
  close(fd);  // the mapping keeps the file open
  return m;
}

void release(Mapping* m) {
  if (m->refs.fetch_sub(1) == 1) {
    if (m->base) munmap(m->base, m->size);
    delete m;
  }
}

static const size_t PAGE = size_t(sysconf(_SC_PAGESIZE));

void populate(Mapping* m, size_t off, size_t len) {
  if (!m->base || len == 0) return;
  char* p = static_cast<char*>(m->base);
  const size_t a = off / PAGE * PAGE, b = std::min(m->size, off + len);
  madvise(p + a, b - a, MADV_WILLNEED);
  const int64_t pages = int64_t((b - a + PAGE - 1) / PAGE);
  // Chunks in order, so the kernel's readahead sees sequential reads from each thread.
  const int64_t chunk = 2048;
  parallelFor((pages + chunk - 1) / chunk, [&](int64_t c) {
    for (int64_t i = c * chunk; i < std::min(pages, (c + 1) * chunk); i++) (void)*static_cast<volatile char*>(p + a + size_t(i) * PAGE);
  });
}

void dropPages(Mapping* m, size_t off, size_t len) {
  if (!m->base || len == 0) return;
  // Whole pages inside the range only: neighbours may still be in use.
  const size_t a = (off + PAGE - 1) / PAGE * PAGE, b = std::min(m->size, off + len) / PAGE * PAGE;
  if (b > a) madvise(static_cast<char*>(m->base) + a, b - a, MADV_DONTNEED);
}

}  // namespace dsts
