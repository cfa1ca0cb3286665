// anneal sample DIR --n N --out FILE.png [--seed S] [model options]
#include <cstdio>
#include <filesystem>

#include "backend/error.hpp"
#include "cli/commands.hpp"
#include "cli/run_dir.hpp"

namespace anneal::cli {

int run_sample(const SampleArgs& a) {
  OpenRun r = open_run(a.dir, a.seed);
  const ModelKind& kind = *r.config.kind;
  if (!kind.can_sample()) throw InvalidInput("model kind " + kind.name() + " cannot sample");
  check_options(a.options, kind.sample_options(), "model kind " + kind.name());
  std::error_code ec;
  auto parent = std::filesystem::absolute(a.out).parent_path();
  if (!std::filesystem::is_directory(parent, ec))
    throw InvalidInput("--out " + a.out + ": no such directory " + parent.string());
  ModelRun run{*r.graph, *r.session, r.config, r.config.eval.batch_size};
  Image image = kind.sample(run, a.n, r.session->seed(), a.options);
  write_png(a.out, image);
  std::fprintf(stderr, "%s: %lld samples, %lldx%lld pixels\n", a.out.c_str(), static_cast<long long>(a.n),
               static_cast<long long>(image.width), static_cast<long long>(image.height));
  return 0;
}

}  // namespace anneal::cli
