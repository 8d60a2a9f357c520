// A whole file, read-only in memory: mapped, or read into anonymous memory backed by huge pages.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>

#include "base/status.h"

namespace foundry {

class MappedFile {
 public:
  static StatusOr<std::unique_ptr<MappedFile>> Open(const std::string& path);
  // Reads the file into anonymous memory aligned to 2 MiB and advised for transparent huge
  // pages: a model's weights, streamed from memory for every generated token, then cost one TLB
  // entry per 2 MiB instead of per 4 KiB. The memory is the process's own, so this is for
  // files that fit comfortably in RAM.
  static StatusOr<std::unique_ptr<MappedFile>> ReadIntoHugePages(const std::string& path);
  // Wraps caller-owned bytes (tests, fuzzing); nothing is unmapped.
  static std::unique_ptr<MappedFile> FromBuffer(const uint8_t* data, size_t size);
  ~MappedFile();
  MappedFile(const MappedFile&) = delete;
  MappedFile& operator=(const MappedFile&) = delete;

  const uint8_t* data() const { return data_; }
  size_t size() const { return size_; }
  const std::string& path() const { return path_; }

  // Drops this process's mapping of the whole pages inside [p, p + n) when they are the file's
  // own pages (Open): they stay in the page cache and are read again if touched, so the bytes
  // do not change, but the process's resident memory no longer counts them (a model whose
  // weights were copied into another layout). Copies (ReadIntoHugePages) and caller-owned
  // bytes are left alone: their pages hold the only copy.
  void ReleasePages(const uint8_t* p, size_t n) const;

 private:
  MappedFile() = default;
  const uint8_t* data_ = nullptr;
  size_t size_ = 0;
  size_t mapped_bytes_ = 0;  // of the mapping to unmap; 0: caller-owned bytes
  bool file_pages_ = false;  // data_ maps the file itself (Open)
  std::string path_;
};

}  // namespace foundry
