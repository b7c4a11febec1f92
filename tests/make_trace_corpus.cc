// Writes testdata/traces/: valid trace files of small models and one broken file per
// defect class, with MANIFEST listing what each broken file must give when loaded. The
// committed files are this program's output:
//
//   ./bazelw run //tests:make_trace_corpus -- "$PWD/testdata/traces"
//
// tests/trace_corpus_test.cc checks every file against the MANIFEST, and the fuzzer
// (tests/fuzz/run_fuzzer.sh trace_file) starts from them.
#include <cstdio>
#include <memory>
#include <string>
#include <vector>

#include "deferred/deferred.h"
#include "deferred/nn/linear.h"
#include "fake_tensor/file_io.h"
#include "fake_tensor/ops/elementwise.h"
#include "fake_tensor/ops/factories.h"
#include "fake_tensor/ops/views.h"
#include "replay/trace_file.h"

namespace deferred {
namespace {

// A buffer, a view parameter of it, a tie and a non-persistent buffer.
class ViewsAndTies : public nn::Module {
 public:
  ViewsAndTies() : Module("ViewsAndTies") {
    const Tensor base = register_buffer("base", arange(0, 12, 1, {.dtype = DType::kFloat32}));
    register_parameter("window", narrow(view(base, {3, 4}), 1, 1, 2));
    register_parameter("tied", parameter("window"));
    register_buffer("mask", lt(arange(0, 4), 2), /*persistent=*/false);
  }
};

std::string Content(const std::string& text) { return text.substr(0, text.rfind("end sha256 ")); }

// `text` with the first `from` replaced by `to`, resealed: wrong content, right checksum.
std::string Edit(const std::string& text, const std::string& from, const std::string& to) {
  std::string content = Content(text);
  const size_t at = content.find(from);
  if (at == std::string::npos) {
    std::fprintf(stderr, "make_trace_corpus: no '%s' in the trace\n", from.c_str());
    std::exit(1);
  }
  content.replace(at, from.size(), to);
  return SealTraceFile(content);
}

struct Broken {
  std::string file;
  std::string code;     // the absl::StatusCode name load_trace must return
  std::string message;  // a part of its message
  std::string text;
};

int Main(const std::string& folder) {
  manual_seed(0);
  absl::StatusOr<std::shared_ptr<nn::Linear>> linear = deferred_init<nn::Linear>(4, 3);
  absl::StatusOr<std::shared_ptr<ViewsAndTies>> views = deferred_init<ViewsAndTies>();
  if (!linear.ok() || !views.ok()) return 1;
  const std::string linear_path = folder + "/linear.dtrace";
  if (!save_trace(**linear, linear_path).ok() ||
      !save_trace(**views, folder + "/views_and_ties.dtrace").ok()) {
    return 1;
  }
  const std::string text = *ReadFileToString(linear_path, 1 << 20);

  std::string flipped = text;
  flipped[text.size() / 2] ^= 0x04;
  std::string wrong_checksum = text;
  wrong_checksum[text.size() - 2] = wrong_checksum[text.size() - 2] == '0' ? '1' : '0';
  const std::vector<Broken> broken = {
      {"bad_truncated.dtrace", "DATA_LOSS", "truncated", text.substr(0, text.size() / 2)},
      {"bad_no_end_line.dtrace", "DATA_LOSS", "is not the end line", Content(text)},
      {"bad_flipped_byte.dtrace", "DATA_LOSS", "checksum mismatch", flipped},
      {"bad_wrong_checksum.dtrace", "DATA_LOSS", "checksum mismatch", wrong_checksum},
      {"bad_not_a_trace.dtrace", "DATA_LOSS", "not a deferred trace file",
       "{\"weight\": [1, 2, 3]}\n"},
      {"bad_newer_major.dtrace", "FAILED_PRECONDITION", "format 2.0; this reader understands 1.x",
       Edit(text, "deferred-trace 1.0", "deferred-trace 2.0")},
      {"bad_newer_op_set.dtrace", "FAILED_PRECONDITION", "op set 2",
       Edit(text, "\"op_set\":1", "\"op_set\":2")},
      {"bad_invalid_json.dtrace", "DATA_LOSS", "line 3: not valid JSON",
       Edit(text, "{\"storage\":0,", "{\"storage\":0,,")},
      {"bad_deep_nesting.dtrace", "DATA_LOSS", "nested deeper",
       Edit(text, "\"attrs\":{", "\"attrs\":{\"x\":[[[[[[[[[[[[[[[[[[[[1]]]]]]]]]]]]]]]]]]]],")},
      {"bad_unknown_op.dtrace", "INVALID_ARGUMENT", "line 4: unknown op 'emptyy'",
       Edit(text, "\"op\":\"empty\"", "\"op\":\"emptyy\"")},
      {"bad_inconsistent_shapes.dtrace", "INVALID_ARGUMENT",
       "empty makes [3, 5] float32 on cpu, but storage 0 is declared [3, 4]",
       Edit(text, "\"attrs\":{\"sizes\":[3,4]", "\"attrs\":{\"sizes\":[3,5]")},
      {"bad_huge_sizes.dtrace", "INVALID_ARGUMENT", "would hold more than 2^63 - 1 bytes",
       Edit(text, "{\"storage\":0,\"sizes\":[3,4]",
            "{\"storage\":0,\"sizes\":[1099511627776,1099511627776]")},
      {"bad_wrong_attr_type.dtrace", "INVALID_ARGUMENT",
       "empty: attr 'sizes' must be of type Shape",
       Edit(text, "\"attrs\":{\"sizes\":[3,4]", "\"attrs\":{\"sizes\":{\"scalar\":3}")},
      {"bad_layout_outside_storage.dtrace", "INVALID_ARGUMENT", "reaches outside its storage",
       Edit(text, "{\"tensor\":0,\"storage\":0,\"sizes\":[3,4]",
            "{\"tensor\":0,\"storage\":0,\"sizes\":[4,4]")},
      {"bad_dangling_storage.dtrace", "INVALID_ARGUMENT", "storage 9 does not exist",
       Edit(text, "{\"tensor\":0,\"storage\":0,", "{\"tensor\":0,\"storage\":9,")},
      {"bad_wrong_version.dtrace", "INVALID_ARGUMENT",
       "reads version 1 of storage 0, whose latest version is 0",
       Edit(Edit(text, "\"in\":[[0,0,[3,4]", "\"in\":[[0,1,[3,4]"), "\"out\":[[0,1,",
            "\"out\":[[0,2,")},
      {"bad_missing_root.dtrace", "INVALID_ARGUMENT", "the first module must be the root",
       Edit(text, "{\"module\":\"\",", "{\"module\":\"top\",")},
  };
  std::string manifest =
      "# file\tstatus code\tpart of the message (tests/trace_corpus_test.cc checks each)\n";
  for (const Broken& b : broken) {
    if (!WriteFileAtomically(folder + "/" + b.file, b.text).ok()) return 1;
    manifest += b.file + "\t" + b.code + "\t" + b.message + "\n";
  }
  return WriteFileAtomically(folder + "/MANIFEST", manifest).ok() ? 0 : 1;
}

}  // namespace
}  // namespace deferred

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: make_trace_corpus FOLDER\n");
    return 2;
  }
  return deferred::Main(argv[1]);
}
