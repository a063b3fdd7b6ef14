#pragma once
// AtomicFile: write to a temporary file beside the target and rename it over the target only once
// the write has completed. rename() within one directory is atomic on POSIX, so a crash mid-write
// leaves the previous file intact and never a half-written one.
#include <atomic>
#include <cstdio>
#include <filesystem>
#include <string>
#include <system_error>

#include <unistd.h>

#include "loom/core/error.hpp"

namespace loom {

class AtomicFile {
public:
    explicit AtomicFile(std::filesystem::path target) : target_(std::move(target)) {
        static std::atomic<unsigned> counter{0};
        temp_ = target_;
        temp_ += ".tmp." + std::to_string(::getpid()) + "." + std::to_string(counter++);
    }
    AtomicFile(const AtomicFile&) = delete;
    AtomicFile& operator=(const AtomicFile&) = delete;
    ~AtomicFile() {
        if (!committed_) {
            std::error_code ignored;
            std::filesystem::remove(temp_, ignored);
        }
    }

    // Where the writer should put the data.
    const std::filesystem::path& temp_path() const { return temp_; }
    const std::filesystem::path& target_path() const { return target_; }

    // Makes the written temporary file the target. Call after the writer has closed the file.
    void commit() {
        std::error_code ec;
        std::filesystem::rename(temp_, target_, ec);
        require<IoError>(!ec, "cannot move ", temp_, " to ", target_, ": ", ec.message());
        committed_ = true;
    }

private:
    std::filesystem::path target_, temp_;
    bool committed_ = false;
};

// Writes a whole byte buffer to `path` atomically, flushing it to disk before the rename.
inline void write_file_atomically(const std::filesystem::path& path, const void* data, std::size_t size) {
    AtomicFile file(path);
    std::FILE* out = std::fopen(file.temp_path().c_str(), "wb");
    require<IoError>(out != nullptr, "cannot open ", file.temp_path(), " for writing");
    const bool written = std::fwrite(data, 1, size, out) == size && std::fflush(out) == 0 && ::fsync(fileno(out)) == 0;
    const bool closed = std::fclose(out) == 0;
    require<IoError>(written && closed, "cannot write ", size, " bytes to ", file.temp_path());
    file.commit();
}

}  // namespace loom
