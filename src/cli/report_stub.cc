// Temporary until the report lands.
#include "cli/report.h"
namespace memmon::cli {
Status WriteReport(const std::string&, const std::string&) {
  return Status::FailedPrecondition("the HTML report is not built yet");
}
}  // namespace memmon::cli
