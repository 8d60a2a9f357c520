// Command groups of the `foundry` CLI. Each registers its subcommands on the app; the
// callback it installs sets `exit_code`. `env` (read once in main) outlives the parse.
#pragma once

#include <CLI/CLI.hpp>

#include "base/status.h"
#include "cli/environment.h"

namespace foundry::cli {

void AddGenerateCommand(CLI::App& app, const Environment& env, int& exit_code);
void AddTemplateCommand(CLI::App& app, int& exit_code);  // template_command.cc
void AddServiceCommand(CLI::App& app, const Environment& env,
                       int& exit_code);  // service_command.cc
void AddBenchCommand(CLI::App& app, const Environment& env, int& exit_code);
void AddEvalCommand(CLI::App& app, const Environment& env, int& exit_code);  // eval_command.cc
void AddPerplexityCommand(CLI::App& app, const Environment& env,
                          int& exit_code);  // perplexity_command.cc
void AddModelCommand(CLI::App& app, const Environment& env, int& exit_code);  // model_command.cc
// `model run|load|unload` on the `model` group: model_run_command.cc.
void AddModelServiceCommands(CLI::App& model, const Environment& env, int& exit_code);
// `model compile` on the `model` group: compile_command.cc.
void AddCompileCommand(CLI::App& model, const Environment& env, int& exit_code);
void AddCacheCommand(CLI::App& app, const Environment& env, int& exit_code);  // cache_command.cc

// One exit code per error kind, and a one-line message on stderr.
int ReportError(const Status& status);

}  // namespace foundry::cli
