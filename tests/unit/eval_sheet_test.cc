// The quality sheet's pieces: prompt files (JSON Lines, CSV, text), the sheet's CSV and JSON
// round trips, rating checks, resume-safe saving, and the HTML report.
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <string>

#include "eval/html_report.h"
#include "eval/prompt_set.h"
#include "eval/results_sheet.h"

namespace foundry::eval {
namespace {

TEST(PromptSet, ReadsJsonLinesWithOptionalFields) {
  auto p = ParsePromptSet("p.jsonl",
                          "{\"prompt\": \"Capital of France?\", \"reference\": \"Paris\", "
                          "\"category\": \"geo\", \"id\": \"q1\"}\n\n"
                          "{\"question\": \"2+2?\", \"answer\": 4, \"system\": \"Be brief.\"}\n");
  ASSERT_TRUE(p.ok()) << p.status().message();
  ASSERT_EQ(p->size(), 2u);
  EXPECT_EQ((*p)[0].id, "q1");
  EXPECT_EQ((*p)[0].reference, "Paris");
  EXPECT_EQ((*p)[0].category, "geo");
  EXPECT_EQ((*p)[1].id, "2");  // its position
  EXPECT_EQ((*p)[1].prompt, "2+2?");
  EXPECT_EQ((*p)[1].reference, "4");
  EXPECT_EQ((*p)[1].system, "Be brief.");
}

TEST(PromptSet, ErrorsNameTheLine) {
  auto p = ParsePromptSet("p.jsonl", "{\"prompt\": \"a\"}\nnot json\n");
  ASSERT_FALSE(p.ok());
  EXPECT_EQ(p.status().message(), "line 2 is not a JSON object");
  p = ParsePromptSet("p.jsonl", "{\"category\": \"x\"}\n");
  ASSERT_FALSE(p.ok());
  EXPECT_NE(p.status().message().find("no \"prompt\""), std::string::npos);
  EXPECT_FALSE(ParsePromptSet("p.txt", "\n  \n").ok());  // no prompts at all
}

TEST(PromptSet, ReadsCsvWithQuotedFields) {
  auto p = ParsePromptSet("p.CSV",
                          "Category,Prompt,Reference\r\n"
                          "geo,\"Capital of France, please\",Paris\r\n"
                          "quote,\"Say \"\"hi\"\"\nin two lines\",\r\n");
  ASSERT_TRUE(p.ok()) << p.status().message();
  ASSERT_EQ(p->size(), 2u);
  EXPECT_EQ((*p)[0].prompt, "Capital of France, please");
  EXPECT_EQ((*p)[0].category, "geo");
  EXPECT_EQ((*p)[1].prompt, "Say \"hi\"\nin two lines");
  EXPECT_EQ((*p)[1].reference, "");
  EXPECT_FALSE(ParsePromptSet("p.csv", "category,reference\ngeo,Paris\n").ok());
  auto open_quote = ParsePromptSet("p.csv", "prompt\n\"never closed\n");
  ASSERT_FALSE(open_quote.ok());
  EXPECT_NE(open_quote.status().message().find("quoted field"), std::string::npos);
}

TEST(PromptSet, ReadsOnePromptALineOtherwise) {
  auto p = ParsePromptSet("prompts.txt", "First prompt\r\n\nSecond, with a comma\n");
  ASSERT_TRUE(p.ok());
  ASSERT_EQ(p->size(), 2u);
  EXPECT_EQ((*p)[0].prompt, "First prompt");
  EXPECT_EQ((*p)[1].prompt, "Second, with a comma");
  EXPECT_EQ((*p)[1].id, "2");
}

std::vector<SheetRow> SampleRows() {
  SheetRow a;
  a.model = "smollm2";
  a.prompt = {"1", "Say \"hi\", then\nstop", "", "hi", "chat"};
  a.output = "hi, <b>there</b>";
  a.latency_s = 1.25;
  a.ttft_s = 0.125;
  a.prompt_tokens = 12;
  a.completion_tokens = 5;
  a.tokens_per_second = 40;
  a.fluency = 4;
  a.relevance = 5;
  a.correctness = 3;
  SheetRow b = a;
  b.model = "qwen";
  b.fluency.reset();
  b.relevance.reset();
  b.correctness.reset();
  b.error = "";
  SheetRow failed = b;
  failed.error = "the service did not answer";
  return {a, b, failed};
}

void ExpectSameRows(const std::vector<SheetRow>& got, const std::vector<SheetRow>& want) {
  ASSERT_EQ(got.size(), want.size());
  for (size_t i = 0; i < got.size(); ++i) {
    EXPECT_EQ(got[i].model, want[i].model);
    EXPECT_EQ(got[i].prompt.prompt, want[i].prompt.prompt);
    EXPECT_EQ(got[i].prompt.reference, want[i].prompt.reference);
    EXPECT_EQ(got[i].output, want[i].output);
    EXPECT_EQ(got[i].error, want[i].error);
    EXPECT_DOUBLE_EQ(got[i].latency_s, want[i].latency_s);
    EXPECT_EQ(got[i].completion_tokens, want[i].completion_tokens);
    EXPECT_EQ(got[i].fluency, want[i].fluency);
    EXPECT_EQ(got[i].correctness, want[i].correctness);
  }
}

TEST(ResultsSheet, CsvAndJsonRoundTrip) {
  const auto rows = SampleRows();
  const std::string csv = SheetToCsv(rows);
  EXPECT_EQ(csv.substr(0, csv.find('\r')),
            "model,prompt_id,category,system,prompt,reference,output,error,latency_s,ttft_s,"
            "prompt_tokens,completion_tokens,tokens_per_second,fluency,relevance,correctness");
  auto from_csv = ParseSheet("r.csv", csv);
  ASSERT_TRUE(from_csv.ok()) << from_csv.status().message();
  ExpectSameRows(*from_csv, rows);
  auto from_json = ParseSheet("r.json", SheetToJson(rows));
  ASSERT_TRUE(from_json.ok()) << from_json.status().message();
  ExpectSameRows(*from_json, rows);
}

TEST(ResultsSheet, RatingsMustBeOneToFive) {
  std::string csv = SheetToCsv({SampleRows()[0]});
  csv.replace(csv.rfind(",3"), 2, ",7");
  auto rows = ParseSheet("r.csv", csv);
  ASSERT_FALSE(rows.ok());
  EXPECT_NE(rows.status().message().find("record 2: rating '7'"), std::string::npos)
      << rows.status().message();
}

TEST(ResultsSheet, SavesAtomicallyAndLoadsNothingWhenAbsent) {
  const auto dir =
      std::filesystem::temp_directory_path() / ("foundry-sheet-" + std::to_string(getpid()));
  std::filesystem::create_directories(dir);
  const std::string path = (dir / "results.json").string();
  auto none = LoadSheet(path);
  ASSERT_TRUE(none.ok());
  EXPECT_TRUE(none->empty());
  ASSERT_TRUE(SaveSheet(path, SampleRows()).ok());
  auto back = LoadSheet(path);
  ASSERT_TRUE(back.ok());
  ExpectSameRows(*back, SampleRows());
  EXPECT_EQ(std::distance(std::filesystem::directory_iterator(dir),
                          std::filesystem::directory_iterator()),
            1);  // no temporary file left behind
  std::filesystem::remove_all(dir);
}

TEST(HtmlReport, SummarizesPerModelAndEscapesText) {
  const auto rows = SampleRows();
  const auto models = Summarize(rows);
  ASSERT_EQ(models.size(), 2u);
  EXPECT_EQ(models[0].model, "smollm2");
  EXPECT_EQ(models[0].rated, 1);
  EXPECT_DOUBLE_EQ(models[0].mean_fluency, 4);
  EXPECT_EQ(models[1].rows, 2);
  EXPECT_EQ(models[1].failed, 1);
  EXPECT_DOUBLE_EQ(models[1].mean_latency_s, 1.25);  // the failed row does not count
  const std::string html = HtmlReport(rows);
  EXPECT_EQ(html.find("<b>there</b>"), std::string::npos);
  EXPECT_NE(html.find("hi, &lt;b&gt;there&lt;/b&gt;"), std::string::npos);
  EXPECT_NE(html.find("<svg"), std::string::npos);
  EXPECT_EQ(html.find("http://"), html.find("http://www.w3.org/2000/svg"));  // no other URL
  EXPECT_EQ(html.find("<script"), std::string::npos);
}

}  // namespace
}  // namespace foundry::eval
