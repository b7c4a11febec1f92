#include "replay/trace_file.h"

#include <cmath>
#include <limits>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_replace.h"
#include "fake_tensor/dispatcher.h"
#include "fake_tensor/ops/elementwise.h"
#include "fake_tensor/ops/factories.h"
#include "fake_tensor/ops/random.h"
#include "fake_tensor/ops/views.h"
#include "fake_tensor/recorder.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "replay/replay_session.h"
#include "replay/trace.h"

namespace deferred {
namespace {

using ::testing::HasSubstr;

// A model of one tensor: what `fn` records, as entry "w" of a root module "M".
template <typename Fn>
SavedModel Record(Fn fn) {
  auto trace = std::make_shared<Trace>();
  Tensor t;
  {
    RecordingMode mode(trace);
    ScopedDispatchMode scope(&mode);
    t = fn();
  }
  return SavedModel{{{"", "M"}}, {t}, {{"w", 0, false, true}}};
}

std::vector<float> Values(const Tensor& t) {
  std::shared_ptr<Trace> trace = TraceOf(t);
  ReplaySession session(trace, Device::CPU());
  return MakeTensor(session.RunWhole({trace->Latest(*t.storage())})[0], t.layout(), t.dtype())
      .to_vector<float>();
}

std::string Encode(const SavedModel& model) {
  absl::StatusOr<std::string> text = EncodeTraceFile(model);
  EXPECT_TRUE(text.ok()) << text.status();
  return *text;
}

// The text's content lines (without the end line), edited by replacing `from` with `to`
// once, then sealed again: a file that is wrong but not corrupt.
std::string EditAndReseal(const std::string& text, const std::string& from, const std::string& to) {
  std::string content = text.substr(0, text.rfind("end sha256 "));
  const size_t at = content.find(from);
  EXPECT_NE(at, std::string::npos) << "no '" << from << "' in\n" << content;
  content.replace(at, from.size(), to);
  return SealTraceFile(content);
}

absl::Status DecodeStatus(const std::string& text) { return DecodeTraceFile(text).status(); }

TEST(TraceFileTest, EncodesOneLinePerStorageAndOpAndDecodesTheSameValues) {
  const SavedModel model = Record([] {
    Tensor w = full({2, 3}, 1.5);
    mul_(narrow(w, 1, 1, 2), -2.0);
    return w;
  });
  const std::string text = Encode(model);
  EXPECT_THAT(text, HasSubstr("deferred-trace 1.0\n{\"op_set\":1,\"rng\":\"philox4x32-10/1\"}\n"));
  EXPECT_THAT(
      text,
      HasSubstr("{\"storage\":0,\"sizes\":[2,3],\"dtype\":\"float32\",\"device\":\"cpu\"}\n"));
  EXPECT_THAT(text, HasSubstr("{\"op\":\"mul_scalar_\",\"at\":\"replay/trace_file_test.cc:"));
  EXPECT_THAT(
      text,
      HasSubstr(
          "\"in\":[[0,0,[2,2],[3,1],1,\"float32\"]],\"out\":[[0,1,[2,2],[3,1],1,\"float32\"]]"));
  EXPECT_THAT(text, HasSubstr("{\"module\":\"\",\"type\":\"M\"}\n{\"tensor\":0,\"storage\":0,"));
  EXPECT_THAT(text, HasSubstr("{\"parameter\":\"w\",\"tensor\":0}\nend sha256 "));

  absl::StatusOr<SavedModel> decoded = DecodeTraceFile(text);
  ASSERT_TRUE(decoded.ok()) << decoded.status();
  EXPECT_EQ(Values(decoded->tensors[0]), Values(model.tensors[0]));
  EXPECT_EQ(Values(decoded->tensors[0]), (std::vector<float>{1.5f, -3, -3, 1.5f, -3, -3}));
  EXPECT_EQ(Encode(*decoded), text);
}

TEST(TraceFileTest, EveryAttrTypeRoundTripsExactly) {
  // Doubles at the edges (and NaN with a payload), scalars of each kind, shapes, dtypes,
  // devices and bytes, carried by ops that take them.
  const double nan_with_payload = std::bit_cast<double>(uint64_t{0x7ff8000000000123});
  for (const double value : {0.1, -0.0, 1e-310, std::numeric_limits<double>::max(),
                             std::numeric_limits<double>::infinity(), nan_with_payload}) {
    const SavedModel model = Record([&] { return full({3}, value, {.dtype = DType::kFloat64}); });
    const std::string text = Encode(model);
    absl::StatusOr<SavedModel> decoded = DecodeTraceFile(text);
    ASSERT_TRUE(decoded.ok()) << decoded.status() << "\n" << text;
    EXPECT_EQ(Encode(*decoded), text);
  }
  const SavedModel model = Record([] {
    Tensor a = from_data<int32_t>({1, 2, 3, 4, 5, 6}, {2, 3});
    Tensor b = add(to(a, DType::kFloat32), full({3}, int64_t{7}));
    uniform_(b, -1.0, 1.0);
    fill_(narrow(b, 0, 0, 1), true);
    return where(lt(b, 0.5), b, full({1}, 2.5, {.device = Device::CPU()}));
  });
  const std::string text = Encode(model);
  EXPECT_THAT(text, HasSubstr("\"bytes\":{\"bytes\":\"AQAAAAIAAAADAAAABAAAAAUAAAAGAAAA\"}"));
  EXPECT_THAT(text, HasSubstr("\"dtype\":{\"dtype\":\"float32\"}"));
  EXPECT_THAT(text, HasSubstr("\"value\":{\"scalar\":7}"));
  EXPECT_THAT(text, HasSubstr("\"value\":{\"scalar\":true}"));
  EXPECT_THAT(text, HasSubstr("\"other\":{\"scalar\":0.5}"));
  EXPECT_THAT(text, HasSubstr("\"from\":-1.0,\"to\":1.0,\"seed\":"));
  absl::StatusOr<SavedModel> decoded = DecodeTraceFile(text);
  ASSERT_TRUE(decoded.ok()) << decoded.status();
  EXPECT_EQ(Values(decoded->tensors[0]), Values(model.tensors[0]));
  EXPECT_EQ(Encode(*decoded), text);
}

class TraceFileErrorsTest : public ::testing::Test {
 protected:
  const std::string text_ = Encode(Record([] {
    Tensor w = zeros({4, 4});
    normal_(w, 0.0, 0.02);
    return w;
  }));
};

TEST_F(TraceFileErrorsTest, TruncationAndCorruptionAreDataLoss) {
  for (size_t size : {size_t{0}, size_t{5}, text_.size() / 2, text_.size() - 1}) {
    const absl::Status status = DecodeStatus(text_.substr(0, size));
    EXPECT_EQ(status.code(), absl::StatusCode::kDataLoss) << size << ": " << status;
  }
  EXPECT_THAT(DecodeStatus(text_.substr(0, text_.size() / 2)).message(), HasSubstr("truncated"));
  std::string flipped = text_;
  flipped[text_.size() / 2] ^= 0x01;
  const absl::Status status = DecodeStatus(flipped);
  EXPECT_EQ(status.code(), absl::StatusCode::kDataLoss);
  EXPECT_THAT(status.message(), HasSubstr("checksum mismatch"));
  EXPECT_EQ(DecodeStatus("PK\x03\x04 not a trace\n").code(), absl::StatusCode::kDataLoss);
  EXPECT_EQ(DecodeStatus(text_ + "x\n").code(), absl::StatusCode::kDataLoss);
}

TEST_F(TraceFileErrorsTest, VersionsAreCheckedAndNamed) {
  const absl::Status newer =
      DecodeStatus(EditAndReseal(text_, "deferred-trace 1.0", "deferred-trace 2.0"));
  EXPECT_EQ(newer.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(newer.message(), HasSubstr("format 2.0; this reader understands 1.x (up to 1.0)"));
  // A newer minor version reads, and fields it added are ignored.
  const std::string minor =
      EditAndReseal(EditAndReseal(text_, "deferred-trace 1.0", "deferred-trace 1.7"),
                    "{\"op\":\"full\"", "{\"op\":\"full\",\"added_in_1_7\":[1,2]");
  EXPECT_TRUE(DecodeTraceFile(minor).ok()) << DecodeStatus(minor);
  // At this version an unknown field is an error.
  const absl::Status unknown =
      DecodeStatus(EditAndReseal(text_, "{\"op\":\"full\"", "{\"op\":\"full\",\"typo\":1"));
  EXPECT_EQ(unknown.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(unknown.message(), HasSubstr("line 4: unknown field 'typo'"));
  EXPECT_EQ(DecodeStatus(EditAndReseal(text_, "\"op_set\":1", "\"op_set\":9")).code(),
            absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(DecodeStatus(EditAndReseal(text_, "philox4x32-10/1", "mt19937")).code(),
            absl::StatusCode::kFailedPrecondition);
}

TEST_F(TraceFileErrorsTest, InconsistentContentIsRefusedNamingTheLine) {
  struct Case {
    std::string from, to, message;
  };
  const Case cases[] = {
      {"\"op\":\"normal_\"", "\"op\":\"normal\"", "line 5: unknown op 'normal'"},
      {"\"op\":\"full\"", "\"op\":\"narrow\"", "line 4: 'narrow' is a view"},
      {"\"sizes\":[4,4],\"dtype\":{", "\"sizes\":[4,-4],\"dtype\":{",
       "line 4: full: negative size"},
      {"{\"storage\":0,\"sizes\":[4,4]", "{\"storage\":0,\"sizes\":[4,5]",
       "line 4: output 0 must be the next declared storage (0), whole"},
      {"\"attrs\":{\"sizes\":[4,4]", "\"attrs\":{\"sizes\":[2,8]",
       "line 4: full makes [2, 8] float32 on cpu, but storage 0 is declared [4, 4]"},
      {"\"in\":[[0,0,[4,4],[4,1],0,", "\"in\":[[0,0,[4,5],[4,1],0,", "outside its storage"},
      {"\"in\":[[0,0,", "\"in\":[[0,1,", "reads version 1 of storage 0, whose latest version is 0"},
      {"\"in\":[[0,0,", "\"in\":[[3,0,", "storage 3 does not exist"},
      {"\"std\":0.02", "\"std\":-0.02", "normal_"},
      {"\"std\":0.02", "\"std\":2", "normal_: attr 'std' must be of type double"},
      {"\"dtype\":\"float32\",\"device\":\"cpu\"}", "\"dtype\":\"float33\",\"device\":\"cpu\"}",
       "unknown dtype \"float33\""},
      {"{\"module\":\"\",\"type\":\"M\"}", "{\"module\":\"x\",\"type\":\"M\"}",
       "the first module must be the root"},
      {"{\"parameter\":\"w\"", "{\"parameter\":\"a.w\"",
       "'a.w' does not name a tensor of a listed module"},
      {"\"tensor\":0}", "\"tensor\":1}", "tensor 1 does not exist"},
      {"\"attrs\":{", "\"attrs\":[[[[[[[[[[[[[[[[[[[[[[1]]]]]]]]]]]]]]]]]]]],\"x\":{",
       "nested deeper"},
      {"{\"op\":\"full\"", "{\"op\":\"full\",,", "not valid JSON"},
  };
  for (const Case& c : cases) {
    const absl::Status status = DecodeStatus(EditAndReseal(text_, c.from, c.to));
    EXPECT_FALSE(status.ok()) << c.to;
    EXPECT_THAT(std::string(status.message()), HasSubstr(c.message)) << c.to;
  }
}

}  // namespace
}  // namespace deferred
