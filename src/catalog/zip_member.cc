#include "catalog/zip_member.h"

#include <zlib.h>

#include <algorithm>
#include <cstring>
#include <fstream>
#include <limits>
#include <optional>
#include <vector>

namespace foundry {
namespace fs = std::filesystem;

namespace {

constexpr uint32_t kEndOfCentralDirectory = 0x06054b50;
constexpr uint32_t kZip64Locator = 0x07064b50;
constexpr uint32_t kZip64EndOfCentralDirectory = 0x06064b50;
constexpr uint32_t kCentralHeader = 0x02014b50;
constexpr uint32_t kLocalHeader = 0x04034b50;
constexpr size_t kEndRecordSize = 22;
constexpr size_t kMaxCommentSize = 0xffff;
constexpr uint32_t kZip64Marker = 0xffffffff;

uint16_t Le16(const uint8_t* p) { return static_cast<uint16_t>(p[0] | (p[1] << 8)); }
uint32_t Le32(const uint8_t* p) {
  return static_cast<uint32_t>(p[0]) | (static_cast<uint32_t>(p[1]) << 8) |
         (static_cast<uint32_t>(p[2]) << 16) | (static_cast<uint32_t>(p[3]) << 24);
}
uint64_t Le64(const uint8_t* p) { return Le32(p) | (static_cast<uint64_t>(Le32(p + 4)) << 32); }

// The archive file with bounds-checked positioned reads.
class Archive {
 public:
  static StatusOr<Archive> Open(const fs::path& path) {
    Archive a;
    a.path_ = path;
    a.in_.open(path, std::ios::binary);
    std::error_code ec;
    a.size_ = static_cast<uint64_t>(fs::file_size(path, ec));
    if (!a.in_ || ec) return IoError("cannot read " + path.string());
    return a;
  }

  StatusOr<std::vector<uint8_t>> Read(uint64_t offset, uint64_t n) {
    if (offset > size_ || n > size_ - offset) return Damaged("a record lies past the end");
    std::vector<uint8_t> buf(n);
    in_.seekg(static_cast<std::streamoff>(offset));
    in_.read(reinterpret_cast<char*>(buf.data()), static_cast<std::streamsize>(n));
    if (!in_) return IoError("cannot read " + path_.string());
    return buf;
  }

  Status Damaged(const std::string& what) const {
    return CorruptFile(path_.string() + " is not a valid zip archive (" + what +
                       "); delete it to download it again");
  }

  uint64_t size() const { return size_; }
  std::ifstream& stream() { return in_; }
  const fs::path& path() const { return path_; }

 private:
  fs::path path_;
  std::ifstream in_;
  uint64_t size_ = 0;
};

struct CentralDirectory {
  uint64_t offset = 0;
  uint64_t size = 0;
  uint64_t entries = 0;
};

StatusOr<CentralDirectory> FindCentralDirectory(Archive& a) {
  const uint64_t tail_size = std::min<uint64_t>(a.size(), kEndRecordSize + kMaxCommentSize);
  if (tail_size < kEndRecordSize) return a.Damaged("too short");
  const uint64_t tail_start = a.size() - tail_size;
  FOUNDRY_ASSIGN_OR_RETURN(std::vector<uint8_t> tail, a.Read(tail_start, tail_size));
  std::optional<uint64_t> end_at;  // offset of the end record inside `tail`
  for (uint64_t i = tail_size - kEndRecordSize + 1; i-- > 0;) {
    if (Le32(&tail[i]) == kEndOfCentralDirectory) {
      end_at = i;
      break;
    }
  }
  if (!end_at) return a.Damaged("no end of central directory record");
  const uint8_t* e = &tail[*end_at];
  CentralDirectory cd{Le32(e + 16), Le32(e + 12), Le16(e + 10)};
  const bool zip64 = cd.offset == kZip64Marker || cd.size == kZip64Marker || cd.entries == 0xffff;
  if (zip64) {
    if (*end_at < 20) return a.Damaged("zip64 locator missing");
    const uint8_t* loc = &tail[*end_at - 20];
    if (Le32(loc) != kZip64Locator) return a.Damaged("zip64 locator missing");
    FOUNDRY_ASSIGN_OR_RETURN(std::vector<uint8_t> rec, a.Read(Le64(loc + 8), 56));
    if (Le32(rec.data()) != kZip64EndOfCentralDirectory) return a.Damaged("bad zip64 end record");
    cd = {Le64(&rec[48]), Le64(&rec[40]), Le64(&rec[32])};
  }
  if (cd.offset > a.size() || cd.size > a.size() - cd.offset) {
    return a.Damaged("central directory out of bounds");
  }
  return cd;
}

struct Entry {
  uint16_t flags = 0;
  uint16_t method = 0;
  uint32_t crc = 0;
  uint64_t compressed = 0;
  uint64_t uncompressed = 0;
  uint64_t local_offset = 0;
};

// Replaces 0xffffffff fields by their values in the zip64 extra field (id 1), in its order.
Status ApplyZip64Extra(const Archive& a, const uint8_t* extra, size_t extra_len, Entry& e) {
  size_t i = 0;
  while (i + 4 <= extra_len) {
    const uint16_t id = Le16(extra + i);
    const uint16_t len = Le16(extra + i + 2);
    if (i + 4 + len > extra_len) break;
    if (id == 1) {
      const uint8_t* p = extra + i + 4;
      const uint8_t* end = p + len;
      for (uint64_t* field : {&e.uncompressed, &e.compressed, &e.local_offset}) {
        if (*field != kZip64Marker) continue;
        if (p + 8 > end) return a.Damaged("short zip64 extra field");
        *field = Le64(p);
        p += 8;
      }
      return OkStatus();
    }
    i += 4 + len;
  }
  if (e.uncompressed == kZip64Marker || e.compressed == kZip64Marker ||
      e.local_offset == kZip64Marker) {
    return a.Damaged("zip64 extra field missing");
  }
  return OkStatus();
}

StatusOr<Entry> FindEntry(Archive& a, const std::string& name) {
  FOUNDRY_ASSIGN_OR_RETURN(CentralDirectory cd, FindCentralDirectory(a));
  FOUNDRY_ASSIGN_OR_RETURN(std::vector<uint8_t> dir, a.Read(cd.offset, cd.size));
  constexpr size_t kHeader = 46;
  size_t pos = 0;
  for (uint64_t n = 0; n < cd.entries; ++n) {
    if (pos + kHeader > dir.size() || Le32(&dir[pos]) != kCentralHeader) {
      return a.Damaged("bad central directory entry");
    }
    const uint8_t* h = &dir[pos];
    const size_t name_len = Le16(h + 28), extra_len = Le16(h + 30), comment_len = Le16(h + 32);
    if (pos + kHeader + name_len + extra_len + comment_len > dir.size()) {
      return a.Damaged("central directory entry out of bounds");
    }
    const std::string entry_name(reinterpret_cast<const char*>(h + kHeader), name_len);
    if (entry_name == name) {
      Entry e{Le16(h + 8), Le16(h + 10), Le32(h + 16), Le32(h + 20), Le32(h + 24), Le32(h + 42)};
      FOUNDRY_RETURN_IF_ERROR(ApplyZip64Extra(a, h + kHeader + name_len, extra_len, e));
      return e;
    }
    pos += kHeader + name_len + extra_len + comment_len;
  }
  return NotFound(a.path().string() + " has no member " + name);
}

// Streams `compressed` bytes from the archive's current position through `sink`.
template <typename Sink>
Status ForEachChunk(Archive& a, uint64_t compressed, Sink sink) {
  std::vector<char> buf(1 << 20);
  while (compressed > 0) {
    const size_t n = static_cast<size_t>(std::min<uint64_t>(compressed, buf.size()));
    a.stream().read(buf.data(), static_cast<std::streamsize>(n));
    if (!a.stream()) return IoError("cannot read " + a.path().string());
    FOUNDRY_RETURN_IF_ERROR(sink(reinterpret_cast<const uint8_t*>(buf.data()), n));
    compressed -= n;
  }
  return OkStatus();
}

}  // namespace

StatusOr<int64_t> ExtractZipMember(const fs::path& zip, const std::string& name, std::FILE* out) {
  FOUNDRY_ASSIGN_OR_RETURN(Archive a, Archive::Open(zip));
  FOUNDRY_ASSIGN_OR_RETURN(Entry e, FindEntry(a, name));
  if (e.flags & 1) return Unimplemented(zip.string() + ": member " + name + " is encrypted");
  if (e.method != 0 && e.method != 8) {
    return Unimplemented(zip.string() + ": member " + name + " uses compression method " +
                         std::to_string(e.method) + " (only stored and deflated are read)");
  }
  FOUNDRY_ASSIGN_OR_RETURN(std::vector<uint8_t> local, a.Read(e.local_offset, 30));
  if (Le32(local.data()) != kLocalHeader) return a.Damaged("bad local header of " + name);
  const uint64_t data_at = e.local_offset + 30 + Le16(&local[26]) + Le16(&local[28]);
  if (data_at > a.size() || e.compressed > a.size() - data_at) {
    return a.Damaged("member " + name + " lies past the end");
  }
  a.stream().seekg(static_cast<std::streamoff>(data_at));

  uLong crc = crc32(0L, Z_NULL, 0);
  uint64_t written = 0;
  auto emit = [&](const uint8_t* p, size_t n) -> Status {
    if (n == 0) return OkStatus();
    if (std::fwrite(p, 1, n, out) != n) return IoError("cannot write " + name + " (disk full?)");
    for (size_t done = 0; done < n;) {  // crc32 takes a uInt length
      const uInt step = static_cast<uInt>(std::min<size_t>(n - done, 1u << 30));
      crc = crc32(crc, p + done, step);
      done += step;
    }
    written += n;
    return OkStatus();
  };

  if (e.method == 0) {
    FOUNDRY_RETURN_IF_ERROR(ForEachChunk(a, e.compressed, emit));
  } else {
    z_stream z{};
    if (inflateInit2(&z, -MAX_WBITS) != Z_OK) return Internal("inflateInit2 failed");
    std::vector<uint8_t> outbuf(1 << 20);
    int rc = Z_OK;
    const Status st = ForEachChunk(a, e.compressed, [&](const uint8_t* p, size_t n) -> Status {
      z.next_in = const_cast<Bytef*>(p);
      z.avail_in = static_cast<uInt>(n);
      // Until this chunk is used up and inflate has no output left over (a full buffer).
      do {
        if (rc == Z_STREAM_END) return a.Damaged("data after the end of " + name);
        z.next_out = outbuf.data();
        z.avail_out = static_cast<uInt>(outbuf.size());
        rc = inflate(&z, Z_NO_FLUSH);
        if (rc == Z_BUF_ERROR) {  // no progress possible: it needs the next chunk
          rc = Z_OK;
          break;
        }
        if (rc != Z_OK && rc != Z_STREAM_END) return a.Damaged("bad deflate data in " + name);
        FOUNDRY_RETURN_IF_ERROR(emit(outbuf.data(), outbuf.size() - z.avail_out));
      } while (z.avail_in > 0 || (z.avail_out == 0 && rc != Z_STREAM_END));
      return OkStatus();
    });
    inflateEnd(&z);
    FOUNDRY_RETURN_IF_ERROR(st);
    if (rc != Z_STREAM_END) return a.Damaged("deflate data of " + name + " ends early");
  }
  if (written != e.uncompressed) return a.Damaged("member " + name + " has the wrong size");
  if (crc != e.crc) return a.Damaged("CRC-32 mismatch in " + name);
  return static_cast<int64_t>(written);
}

}  // namespace foundry
