// foundry: the command-line entry point. Command groups live in their own files.
#include <CLI/CLI.hpp>

#include "cli/commands.h"

int main(int argc, char** argv) {
  CLI::App app{"foundry: run open language models locally"};
  app.set_version_flag("--version", "foundry 0.1.0");
  app.require_subcommand(1);
  // The one place that reads the environment (src/cli/environment.h).
  const foundry::cli::Environment env = foundry::cli::ReadEnvironment();
  int exit_code = 0;
  foundry::cli::AddGenerateCommand(app, env, exit_code);
  foundry::cli::AddTemplateCommand(app, exit_code);
  foundry::cli::AddServiceCommand(app, env, exit_code);
  foundry::cli::AddBenchCommand(app, env, exit_code);
  foundry::cli::AddPerplexityCommand(app, env, exit_code);
  foundry::cli::AddEvalCommand(app, env, exit_code);
  foundry::cli::AddModelCommand(app, env, exit_code);
  foundry::cli::AddCacheCommand(app, env, exit_code);
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e);
  }
  return exit_code;
}
