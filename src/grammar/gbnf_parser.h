// GBNF, the grammar language of llama.cpp (grammars/README.md there), parsed into a Grammar.
//
//   root  ::= "{" space pair ("," space pair)* "}"     # rules; `root` is where matching starts
//   pair  ::= [a-z]+ ":" space ( "true" | "false" )    # literals, classes, groups, alternation
//   space ::= [ \t\n]{0,20}                            # repetitions * + ? {m} {m,} {m,n} {,n}
//
// Literals and classes take the escapes \n \r \t \\ \" \[ \] \- \xHH \uHHHH \UHHHHHHHH; classes
// take ranges and ^ negation; `.` is any character. A rule body continues on the next line only
// after `|` or inside parentheses. Errors name the line and column.
#pragma once

#include <string_view>

#include "base/status.h"
#include "grammar/grammar.h"

namespace foundry {

StatusOr<Grammar> ParseGbnf(std::string_view text, std::string_view root = "root");

}  // namespace foundry
