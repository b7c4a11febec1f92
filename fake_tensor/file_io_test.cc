#include "fake_tensor/file_io.h"

#include <sys/stat.h>

#include <cstdlib>
#include <filesystem>
#include <string>

#include "gtest/gtest.h"

namespace deferred {
namespace {

namespace fs = std::filesystem;

// A new empty folder under the test's temporary directory.
fs::path NewFolder(const std::string& name) {
  const char* base = std::getenv("TEST_TMPDIR");
  const fs::path folder = fs::path(base != nullptr ? base : "/tmp") / name;
  fs::remove_all(folder);
  fs::create_directories(folder);
  return folder;
}

TEST(FileIoTest, WriteReplacesTheFileWholeAndLeavesNothingElse) {
  const fs::path folder = NewFolder("write");
  const std::string path = (folder / "file.txt").string();
  ASSERT_TRUE(WriteFileAtomically(path, "first").ok());
  ASSERT_TRUE(WriteFileAtomically(path, "second, longer").ok());
  EXPECT_EQ(*ReadFileToString(path, 1 << 20), "second, longer");
  EXPECT_EQ(std::distance(fs::directory_iterator(folder), fs::directory_iterator()), 1);
  struct stat info;
  ASSERT_EQ(::stat(path.c_str(), &info), 0);
  EXPECT_EQ(info.st_mode & 0777, 0644);
}

TEST(FileIoTest, FailedWritesLeaveNoFileAndTheOldOneUntouched) {
  const fs::path folder = NewFolder("fail");
  const absl::Status missing = WriteFileAtomically((folder / "no" / "file").string(), "x");
  EXPECT_EQ(missing.code(), absl::StatusCode::kNotFound) << missing;
  const std::string dir = (folder / "dir").string();
  fs::create_directory(dir);
  const absl::Status is_dir = WriteFileAtomically(dir, "x");
  EXPECT_EQ(is_dir.code(), absl::StatusCode::kInvalidArgument) << is_dir;
  EXPECT_TRUE(fs::is_directory(dir));
  EXPECT_EQ(std::distance(fs::directory_iterator(folder), fs::directory_iterator()), 1);
}

TEST(FileIoTest, ReadNamesWhatIsWrong) {
  const fs::path folder = NewFolder("read");
  EXPECT_EQ(ReadFileToString((folder / "absent").string(), 10).status().code(),
            absl::StatusCode::kNotFound);
  EXPECT_EQ(ReadFileToString(folder.string(), 10).status().code(),
            absl::StatusCode::kInvalidArgument);
  const std::string path = (folder / "big").string();
  ASSERT_TRUE(WriteFileAtomically(path, std::string(11, 'x')).ok());
  EXPECT_EQ(ReadFileToString(path, 10).status().code(), absl::StatusCode::kResourceExhausted);
  EXPECT_EQ(ReadFileToString(path, 11)->size(), 11u);
}

}  // namespace
}  // namespace deferred
