# Writes a C++ source defining foundry::BuiltinCatalogJson() from a JSON file.
# cmake -DIN=catalog.json -DOUT=catalog_data.cc -P embed.cmake
file(READ "${IN}" hex HEX)
string(LENGTH "${hex}" n)
math(EXPR bytes "${n} / 2")
string(REGEX REPLACE "([0-9a-f][0-9a-f])" "0x\\1," body "${hex}")
string(REGEX REPLACE "((0x[0-9a-f][0-9a-f],){24})" "\\1\n" body "${body}")
file(WRITE "${OUT}.tmp" "// Generated from catalog/catalog.json by catalog/embed.cmake. Do not edit.
#include <string_view>

namespace foundry {
namespace {
const unsigned char kCatalog[] = {
${body}
};
}  // namespace

std::string_view BuiltinCatalogJson() {
  return std::string_view(reinterpret_cast<const char*>(kCatalog), ${bytes});
}

}  // namespace foundry
")
file(RENAME "${OUT}.tmp" "${OUT}")
