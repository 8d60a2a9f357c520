#include "base/mapped_file.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string>

namespace foundry {

namespace {

struct OpenFile {
  int fd = -1;
  size_t size = 0;
  ~OpenFile() {
    if (fd >= 0) ::close(fd);
  }
};

Status OpenRegular(const std::string& path, OpenFile* f) {
  f->fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (f->fd < 0) {
    const int err = errno;
    if (err == ENOENT) return NotFound("no such file: " + path);
    return IoError("cannot open " + path + ": " + std::strerror(err));
  }
  struct stat st;
  if (::fstat(f->fd, &st) != 0 || !S_ISREG(st.st_mode)) {
    return IoError("not a regular file: " + path);
  }
  f->size = static_cast<size_t>(st.st_size);
  return OkStatus();
}

}  // namespace

StatusOr<std::unique_ptr<MappedFile>> MappedFile::Open(const std::string& path) {
  OpenFile in;
  FOUNDRY_RETURN_IF_ERROR(OpenRegular(path, &in));
  std::unique_ptr<MappedFile> f(new MappedFile());
  f->path_ = path;
  f->size_ = in.size;
  if (f->size_ > 0) {
    void* p = ::mmap(nullptr, f->size_, PROT_READ, MAP_PRIVATE, in.fd, 0);
    if (p == MAP_FAILED) return IoError("cannot map " + path + ": " + std::strerror(errno));
    f->data_ = static_cast<const uint8_t*>(p);
    f->mapped_bytes_ = f->size_;
    f->file_pages_ = true;
  }
  return f;
}

StatusOr<std::unique_ptr<MappedFile>> MappedFile::ReadIntoHugePages(const std::string& path) {
  constexpr size_t kHuge = size_t{2} << 20;
  OpenFile in;
  FOUNDRY_RETURN_IF_ERROR(OpenRegular(path, &in));
  std::unique_ptr<MappedFile> f(new MappedFile());
  f->path_ = path;
  f->size_ = in.size;
  if (in.size == 0) return f;
  // Map one huge page more than needed, then trim to a 2 MiB-aligned range.
  const size_t len = (in.size + kHuge - 1) / kHuge * kHuge;
  void* raw =
      ::mmap(nullptr, len + kHuge, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (raw == MAP_FAILED) {
    return IoError("cannot allocate " + std::to_string(len) + " bytes for " + path + ": " +
                   std::strerror(errno));
  }
  uint8_t* base = static_cast<uint8_t*>(raw);
  uint8_t* aligned =
      reinterpret_cast<uint8_t*>((reinterpret_cast<uintptr_t>(base) + kHuge - 1) / kHuge * kHuge);
  if (aligned > base) ::munmap(base, static_cast<size_t>(aligned - base));
  const size_t tail = static_cast<size_t>(base + len + kHuge - (aligned + len));
  if (tail > 0) ::munmap(aligned + len, tail);
  f->data_ = aligned;
  f->mapped_bytes_ = len;
  ::madvise(aligned, len, MADV_HUGEPAGE);  // a hint: without huge pages the copy still works
  size_t done = 0;
  while (done < in.size) {
    const ssize_t r = ::pread(in.fd, aligned + done, in.size - done, static_cast<off_t>(done));
    if (r < 0 && errno == EINTR) continue;
    if (r <= 0) {
      return IoError("cannot read " + path + ": " +
                     (r < 0 ? std::string(std::strerror(errno)) : "the file shrank"));
    }
    done += static_cast<size_t>(r);
  }
  ::mprotect(aligned, len, PROT_READ);
  return f;
}

std::unique_ptr<MappedFile> MappedFile::FromBuffer(const uint8_t* data, size_t size) {
  std::unique_ptr<MappedFile> f(new MappedFile());
  f->data_ = data;
  f->size_ = size;
  f->path_ = "<memory>";
  return f;
}

void MappedFile::ReleasePages(const uint8_t* p, size_t n) const {
  if (!file_pages_ || p < data_ || n > size_ || p - data_ > static_cast<ptrdiff_t>(size_ - n)) {
    return;
  }
  const uintptr_t page = static_cast<uintptr_t>(::sysconf(_SC_PAGESIZE));
  const uintptr_t first = (reinterpret_cast<uintptr_t>(p) + page - 1) / page * page;
  const uintptr_t last = (reinterpret_cast<uintptr_t>(p) + n) / page * page;
  if (first < last) {
    ::madvise(reinterpret_cast<void*>(first), last - first, MADV_DONTNEED);  // a hint: may fail
  }
}

MappedFile::~MappedFile() {
  if (mapped_bytes_ > 0) ::munmap(const_cast<uint8_t*>(data_), mapped_bytes_);
}

}  // namespace foundry
