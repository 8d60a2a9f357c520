# Writes a C++ source defining foundry::WebAssets() (src/server/web_assets.h) from the chat
# page's files: every *.html, *.css, *.js and *.svg directly in DIR, as byte arrays with their
# URL path ("/web/<file name>") and content type. The page stays plain files under web/;
# nothing but CMake is needed to build it in.
# cmake -DDIR=web -DOUT=web_assets.cc -P embed.cmake
file(GLOB files LIST_DIRECTORIES false "${DIR}/*.html" "${DIR}/*.css" "${DIR}/*.js" "${DIR}/*.svg")
list(SORT files)
set(arrays "")
set(rows "")
set(i 0)
foreach(f ${files})
  get_filename_component(name "${f}" NAME)
  get_filename_component(ext "${f}" LAST_EXT)
  if(ext STREQUAL ".html")
    set(type "text/html; charset=utf-8")
  elseif(ext STREQUAL ".css")
    set(type "text/css; charset=utf-8")
  elseif(ext STREQUAL ".js")
    set(type "text/javascript; charset=utf-8")
  else()
    set(type "image/svg+xml")
  endif()
  file(READ "${f}" hex HEX)
  string(LENGTH "${hex}" n)
  math(EXPR bytes "${n} / 2")
  string(REGEX REPLACE "([0-9a-f][0-9a-f])" "0x\\1," body "${hex}")
  string(REGEX REPLACE "((0x[0-9a-f][0-9a-f],){24})" "\\1\n" body "${body}")
  string(APPEND arrays "// web/${name}\nconst unsigned char kFile${i}[] = {\n${body}\n};\n")
  string(APPEND rows "    {\"/web/${name}\", \"${type}\", Bytes(kFile${i}, ${bytes})},\n")
  math(EXPR i "${i} + 1")
endforeach()
file(WRITE "${OUT}.tmp" "// Generated from web/* by web/embed.cmake. Do not edit.
#include \"server/web_assets.h\"

namespace foundry {
namespace {
std::string_view Bytes(const unsigned char* p, size_t n) {
  return std::string_view(reinterpret_cast<const char*>(p), n);
}
${arrays}}  // namespace

std::span<const WebAsset> WebAssets() {
  static const WebAsset kAssets[] = {
${rows}  };
  return kAssets;
}

}  // namespace foundry
")
file(RENAME "${OUT}.tmp" "${OUT}")
