// Copyright 2026 The memmon Authors.
// SPDX-License-Identifier: Apache-2.0

#include "profile/modules.h"

#include <elf.h>
#include <link.h>
#include <unistd.h>

#include <climits>

namespace memmon::profile {
namespace {

std::string Hex(const unsigned char* p, std::size_t n) {
  static const char kDigits[] = "0123456789abcdef";
  std::string s;
  for (std::size_t i = 0; i < n; ++i) {
    s.push_back(kDigits[p[i] >> 4]);
    s.push_back(kDigits[p[i] & 15]);
  }
  return s;
}

std::string BuildId(const dl_phdr_info* info) {
  for (int i = 0; i < info->dlpi_phnum; ++i) {
    const ElfW(Phdr)& ph = info->dlpi_phdr[i];
    if (ph.p_type != PT_NOTE) continue;
    const char* p = reinterpret_cast<const char*>(info->dlpi_addr + ph.p_vaddr);
    const char* end = p + ph.p_memsz;
    while (p + sizeof(ElfW(Nhdr)) <= end) {
      const auto* note = reinterpret_cast<const ElfW(Nhdr)*>(p);
      const char* name = p + sizeof(ElfW(Nhdr));
      const char* desc = name + ((note->n_namesz + 3) & ~3u);
      const char* next = desc + ((note->n_descsz + 3) & ~3u);
      if (next > end) break;
      if (note->n_type == NT_GNU_BUILD_ID && note->n_namesz == 4 &&
          std::string(name, 3) == "GNU") {
        return Hex(reinterpret_cast<const unsigned char*>(desc),
                   note->n_descsz);
      }
      p = next;
    }
  }
  return {};
}

std::string SelfExe() {
  char buf[PATH_MAX];
  ssize_t n = readlink("/proc/self/exe", buf, sizeof(buf) - 1);
  return n > 0 ? std::string(buf, static_cast<std::size_t>(n)) : std::string();
}

int Collect(dl_phdr_info* info, size_t, void* data) {
  auto* out = static_cast<std::vector<Module>*>(data);
  Module m;
  m.bias = info->dlpi_addr;
  m.exec_start = UINTPTR_MAX;
  for (int i = 0; i < info->dlpi_phnum; ++i) {
    const ElfW(Phdr)& ph = info->dlpi_phdr[i];
    if (ph.p_type != PT_LOAD || (ph.p_flags & PF_X) == 0) continue;
    uintptr_t start = info->dlpi_addr + ph.p_vaddr;
    if (start < m.exec_start) {
      m.exec_start = start;
      m.exec_file_offset = ph.p_offset;
    }
    if (start + ph.p_memsz > m.exec_end) m.exec_end = start + ph.p_memsz;
  }
  if (m.exec_end == 0) return 0;  // nothing executable
  const char* name = info->dlpi_name;
  m.path = (name == nullptr || *name == '\0') ? std::string() : name;
  if (m.path.empty() && out->empty()) m.path = SelfExe();  // the program
  m.build_id = BuildId(info);
  out->push_back(std::move(m));
  return 0;
}

}  // namespace

std::vector<Module> LoadedModules() {
  std::vector<Module> modules;
  modules.reserve(64);
  dl_iterate_phdr(Collect, &modules);
  return modules;
}

const Module* FindModule(const std::vector<Module>& modules,
                         uintptr_t address) {
  for (const Module& m : modules) {
    if (address >= m.exec_start && address < m.exec_end) return &m;
  }
  return nullptr;
}

}  // namespace memmon::profile
