// Copyright 2026 The memmon Authors.
// SPDX-License-Identifier: Apache-2.0

#include "profile/symbolizer.h"

#include <cxxabi.h>
#include <dlfcn.h>
#include <dwarf.h>
#include <elfutils/libdw.h>
#include <elfutils/libdwfl.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <unordered_map>

namespace memmon::profile {

std::string Demangle(const std::string& name) {
  if (name.size() < 2 || name[0] != '_' || name[1] != 'Z') return name;
  int status = 0;
  char* d = abi::__cxa_demangle(name.c_str(), nullptr, nullptr, &status);
  if (status != 0 || d == nullptr) return name;
  std::string out(d);
  std::free(d);
  return out;
}

namespace {
int NoSeparateDebuginfo(Dwfl_Module*, void**, const char*, Dwarf_Addr,
                        const char*, const char*, GElf_Word, char**) {
  return -1;  // none: libdw then uses the DWARF in the object, if any
}
}  // namespace

namespace {

// The scopes of one compilation unit that can hold code (subprograms and
// inline instances), read in one walk of its DIE tree, so that each address
// is then a binary search and a scan of one function's inline instances
// instead of a walk of the whole unit (dwarf_getscopes): in a unit of
// heavily templated C++ (a JSON library, an HTTP server) that walk is
// milliseconds per address, and every new address in a profile paid it.
struct CuIndex {
  struct Scope {
    Dwarf_Off offset;  // of the DIE, in its Dwarf
    int32_t parent;    // the enclosing scope, -1 for none
    int32_t depth;     // 0 for a function not nested in another scope
    uint32_t ranges_begin, ranges_end;  // into `ranges`
    uint32_t subtree_end;  // the scopes nested in this one precede it
    bool inlined;          // DW_TAG_inlined_subroutine, else subprogram
  };
  struct Top {
    Dwarf_Addr low, high;
    uint32_t scope;
  };
  std::vector<Scope> scopes;  // in DIE order: a scope's nested ones follow
  std::vector<std::pair<Dwarf_Addr, Dwarf_Addr>> ranges;
  std::vector<Top> tops;  // the outermost functions' ranges, by address
  bool complete = true;   // false: the walk stopped (too deep, too large)
};

constexpr int kMaxScopeNesting = 256;
constexpr std::size_t kMaxIndexedScopes = 1 << 22;

void IndexScopes(Dwarf_Die* parent, int32_t enclosing, int nesting,
                 CuIndex* ix) {
  Dwarf_Die child;
  if (dwarf_child(parent, &child) != 0) return;
  do {
    int tag = dwarf_tag(&child);
    int32_t me = enclosing;
    if (tag == DW_TAG_subprogram || tag == DW_TAG_inlined_subroutine) {
      CuIndex::Scope s{};
      s.offset = dwarf_dieoffset(&child);
      s.parent = enclosing;
      s.depth = enclosing < 0 ? 0 : ix->scopes[enclosing].depth + 1;
      s.inlined = tag == DW_TAG_inlined_subroutine;
      s.ranges_begin = static_cast<uint32_t>(ix->ranges.size());
      Dwarf_Addr base = 0, start = 0, end = 0;
      ptrdiff_t at = 0;
      while ((at = dwarf_ranges(&child, at, &base, &start, &end)) > 0) {
        if (start < end) ix->ranges.emplace_back(start, end);
      }
      s.ranges_end = static_cast<uint32_t>(ix->ranges.size());
      // A declaration (no code) holds no address: not a scope.
      if (s.ranges_end > s.ranges_begin) {
        if (ix->scopes.size() >= kMaxIndexedScopes) {
          ix->complete = false;
          return;
        }
        me = static_cast<int32_t>(ix->scopes.size());
        ix->scopes.push_back(s);
      }
    }
    if (dwarf_haschildren(&child) > 0) {
      if (nesting >= kMaxScopeNesting) {
        ix->complete = false;
      } else {
        IndexScopes(&child, me, nesting + 1, ix);
      }
    }
    if (me != enclosing) {
      ix->scopes[me].subtree_end = static_cast<uint32_t>(ix->scopes.size());
    }
  } while (dwarf_siblingof(&child, &child) == 0);
}

CuIndex BuildCuIndex(Dwarf_Die* cu) {
  CuIndex ix;
  IndexScopes(cu, -1, 0, &ix);
  for (uint32_t i = 0; i < ix.scopes.size(); ++i) {
    const CuIndex::Scope& s = ix.scopes[i];
    if (s.parent >= 0) continue;
    for (uint32_t r = s.ranges_begin; r < s.ranges_end; ++r) {
      ix.tops.push_back({ix.ranges[r].first, ix.ranges[r].second, i});
    }
  }
  std::sort(ix.tops.begin(), ix.tops.end(),
            [](const CuIndex::Top& a, const CuIndex::Top& b) {
              return a.low < b.low;
            });
  ix.scopes.shrink_to_fit();
  ix.ranges.shrink_to_fit();
  return ix;
}

// The innermost scope holding `addr` (the unit's own addresses), -1 when
// the index has none.
int32_t InnermostScope(const CuIndex& ix, Dwarf_Addr addr) {
  auto it = std::upper_bound(
      ix.tops.begin(), ix.tops.end(), addr,
      [](Dwarf_Addr a, const CuIndex::Top& t) { return a < t.low; });
  if (it == ix.tops.begin()) return -1;
  --it;
  if (addr >= it->high) return -1;
  auto holds = [&](const CuIndex::Scope& s) {
    for (uint32_t r = s.ranges_begin; r < s.ranges_end; ++r) {
      if (ix.ranges[r].first <= addr && addr < ix.ranges[r].second) {
        return true;
      }
    }
    return false;
  };
  int32_t best = static_cast<int32_t>(it->scope);
  const uint32_t end = ix.scopes[it->scope].subtree_end;
  for (uint32_t i = it->scope + 1; i < end; ++i) {
    if (ix.scopes[i].depth > ix.scopes[best].depth && holds(ix.scopes[i])) {
      best = static_cast<int32_t>(i);
    }
  }
  return best;
}

}  // namespace

struct Symbolizer::Impl {
  Dwfl_Callbacks callbacks{};
  char* debuginfo_path = nullptr;
  Dwfl* dwfl = nullptr;
  std::unordered_map<uintptr_t, std::vector<SymbolFrame>> cache;
  // Qualified names of DIEs without a linkage name, by DIE address.
  std::unordered_map<const void*, std::string> names;
  // Each compilation unit's scopes, by its DIE's address, read the first
  // time an address falls in it.
  std::unordered_map<const void*, CuIndex> units;

  bool offline = false;

  // `maps`: null for this process, else the text of a /proc/PID/maps.
  explicit Impl(const std::string* maps) : offline(maps != nullptr) {
    callbacks.find_elf = dwfl_linux_proc_find_elf;
    // Separate debug files (/usr/lib/debug, e.g. libc6-dbg) are read only
    // when MEMMON_SEPARATE_DEBUGINFO=1: inflating libc's alone costs 0.2 s
    // and 25 MB in the profiled process. DWARF inside the objects
    // themselves (a program built with -g) is always used.
    const char* separate = getenv("MEMMON_SEPARATE_DEBUGINFO");
    bool use_separate = separate != nullptr && *separate == '1';
    callbacks.find_debuginfo =
        use_separate ? dwfl_standard_find_debuginfo : NoSeparateDebuginfo;
    callbacks.debuginfo_path = &debuginfo_path;
    dwfl = dwfl_begin(&callbacks);
    if (dwfl == nullptr) return;
    int rc = -1;
    if (maps == nullptr) {
      rc = dwfl_linux_proc_report(dwfl, getpid());
    } else if (FILE* f = fmemopen(const_cast<char*>(maps->data()), maps->size(),
                                  "r")) {
      rc = dwfl_linux_proc_maps_report(dwfl, f);
      std::fclose(f);
    }
    if (rc != 0 || dwfl_report_end(dwfl, nullptr, nullptr) != 0) {
      dwfl_end(dwfl);
      dwfl = nullptr;
    }
  }
  ~Impl() {
    if (dwfl != nullptr) dwfl_end(dwfl);
  }
};

Symbolizer::Symbolizer() : impl_(std::make_unique<Impl>(nullptr)) {}
Symbolizer::Symbolizer(const std::string& maps_text)
    : impl_(std::make_unique<Impl>(&maps_text)) {}
Symbolizer::~Symbolizer() = default;

namespace {

// The DIE that declares `die`: through DW_AT_abstract_origin (an inline
// instance's function) and DW_AT_specification (an out-of-class definition's
// in-class declaration). Bounded, in case of a cycle in broken DWARF.
Dwarf_Die Declaration(Dwarf_Die* die) {
  Dwarf_Die cur = *die;
  for (int i = 0; i < 8; ++i) {
    Dwarf_Attribute attr;
    Dwarf_Die next;
    if ((dwarf_attr(&cur, DW_AT_abstract_origin, &attr) == nullptr &&
         dwarf_attr(&cur, DW_AT_specification, &attr) == nullptr) ||
        dwarf_formref_die(&attr, &next) == nullptr) {
      break;
    }
    cur = next;
  }
  return cur;
}

// The function's name as C++ spells it: demangled from the linkage name
// when the DWARF has one, else its DW_AT_name qualified by the enclosing
// namespaces and classes (functions with internal linkage -- in an
// anonymous namespace, static -- have no linkage name).
std::string DieName(Dwarf_Die* die,
                    std::unordered_map<const void*, std::string>* names) {
  Dwarf_Attribute attr;
  const char* linkage = nullptr;
  if (dwarf_attr_integrate(die, DW_AT_linkage_name, &attr) != nullptr ||
      dwarf_attr_integrate(die, DW_AT_MIPS_linkage_name, &attr) != nullptr) {
    linkage = dwarf_formstring(&attr);
  }
  if (linkage != nullptr) return Demangle(linkage);
  Dwarf_Die decl = Declaration(die);
  auto cached = names->find(decl.addr);
  if (cached != names->end()) return cached->second;
  std::string name;
  if (const char* n = dwarf_diename(&decl)) name = n;
  if (name.empty()) return name;
  // The parents of the declaration, innermost first (walks its CU: cached).
  Dwarf_Die* scopes = nullptr;
  int n = dwarf_getscopes_die(&decl, &scopes);
  for (int i = 1; i < n; ++i) {
    int tag = dwarf_tag(&scopes[i]);
    if (tag != DW_TAG_namespace && tag != DW_TAG_class_type &&
        tag != DW_TAG_structure_type && tag != DW_TAG_union_type) {
      continue;
    }
    const char* scope = dwarf_diename(&scopes[i]);
    name =
        std::string(scope ? scope
                          : (tag == DW_TAG_namespace ? "(anonymous namespace)"
                                                     : "(anonymous)")) +
        "::" + name;
  }
  std::free(scopes);
  names->emplace(decl.addr, name);
  return name;
}

void DladdrFallback(uintptr_t pc, SymbolFrame* f) {
  Dl_info info;
  if (dladdr(reinterpret_cast<void*>(pc), &info) != 0 && info.dli_sname) {
    f->system_name = info.dli_sname;
    f->function = Demangle(info.dli_sname);
  }
}

}  // namespace

std::vector<SymbolFrame> Symbolizer::Symbolize(uintptr_t pc) {
  auto it = impl_->cache.find(pc);
  if (it != impl_->cache.end()) return it->second;
  std::vector<SymbolFrame> frames = Lookup(pc, /*walk=*/false);
  impl_->cache.emplace(pc, frames);
  return frames;
}

std::vector<SymbolFrame> Symbolizer::SymbolizeByWalking(uintptr_t pc) {
  return Lookup(pc, /*walk=*/true);
}

std::vector<SymbolFrame> Symbolizer::Lookup(uintptr_t pc, bool walk) {
  std::vector<SymbolFrame> frames;
  Dwfl_Module* mod =
      impl_->dwfl ? dwfl_addrmodule(impl_->dwfl, static_cast<Dwarf_Addr>(pc))
                  : nullptr;
  SymbolFrame outer;
  if (mod == nullptr) {
    if (!impl_->offline) DladdrFallback(pc, &outer);
    frames.push_back(std::move(outer));
    return frames;
  }
  if (const char* sym = dwfl_module_addrname(mod, pc)) {
    outer.system_name = sym;
    outer.function = Demangle(sym);
  } else if (!impl_->offline) {
    DladdrFallback(pc, &outer);
  }
  const char* file = nullptr;
  int line = 0;
  if (Dwfl_Line* l = dwfl_module_getsrc(mod, pc)) {
    file = dwfl_lineinfo(l, nullptr, &line, nullptr, nullptr, nullptr);
  }
  std::string cur_file = file ? file : "";
  int cur_line = line;

  Dwarf_Addr bias = 0;
  Dwarf_Die* cu = dwfl_module_addrdie(mod, pc, &bias);
  // The concrete scopes around the pc, innermost first: every inline
  // instance nested around it, out to the subprogram.
  std::vector<Dwarf_Die> chain;
  if (cu != nullptr && !walk) {
    auto [unit, fresh] = impl_->units.try_emplace(cu->addr);
    if (fresh) unit->second = BuildCuIndex(cu);
    const CuIndex& ix = unit->second;
    Dwarf* dwarf = dwarf_cu_getdwarf(cu->cu);
    for (int32_t i = InnermostScope(ix, pc - bias); i >= 0 && dwarf != nullptr;
         i = ix.scopes[i].parent) {
      Dwarf_Die die;
      if (dwarf_offdie(dwarf, ix.scopes[i].offset, &die) == nullptr) break;
      chain.push_back(die);
    }
    // An address the index does not place (a partial walk, an odd unit)
    // is walked for, as below.
    walk = chain.empty() && !ix.complete;
  }
  if (cu != nullptr && walk) {
    Dwarf_Die* scopes = nullptr;
    int n = dwarf_getscopes(cu, pc - bias, &scopes);
    // dwarf_getscopes() follows the innermost inline instance to its
    // abstract origin, so it sees one inline level only. The concrete
    // chain is the parent chain of the innermost scope's DIE (as
    // eu-addr2line -i walks it).
    if (n > 0) {
      Dwarf_Off innermost = dwarf_dieoffset(&scopes[0]);
      std::free(scopes);
      scopes = nullptr;
      Dwarf* dwarf = dwarf_cu_getdwarf(cu->cu);
      Dwarf_Die die;
      n = dwarf != nullptr && dwarf_offdie(dwarf, innermost, &die) != nullptr
              ? dwarf_getscopes_die(&die, &scopes)
              : 0;
    }
    chain.assign(scopes, scopes + std::max(n, 0));
    std::free(scopes);
  }
  Dwarf_Files* files = nullptr;
  size_t nfiles = 0;
  if (cu) dwarf_getsrcfiles(cu, &files, &nfiles);
  for (Dwarf_Die& scope : chain) {
    Dwarf_Die* s = &scope;
    int tag = dwarf_tag(s);
    if (tag == DW_TAG_inlined_subroutine) {
      SymbolFrame f;
      f.function = DieName(s, &impl_->names);
      f.file = cur_file;
      f.line = cur_line;
      frames.push_back(std::move(f));
      // The caller's position is where this inline instance was called.
      Dwarf_Attribute attr;
      Dwarf_Word v = 0;
      cur_line = 0;
      if (dwarf_formudata(dwarf_attr(s, DW_AT_call_line, &attr), &v) == 0) {
        cur_line = static_cast<int>(v);
      }
      if (files != nullptr &&
          dwarf_formudata(dwarf_attr(s, DW_AT_call_file, &attr), &v) == 0) {
        if (const char* f2 = dwarf_filesrc(files, v, nullptr, nullptr)) {
          cur_file = f2;
        }
      }
    } else if (tag == DW_TAG_subprogram) {
      if (outer.function.empty()) outer.function = DieName(s, &impl_->names);
      break;
    }
  }
  if (outer.function.empty()) {
    // No symbol (a local function of a stripped library): name the place
    // as "libc.so.6+0x29d90", so that distinct places stay distinct.
    Dwarf_Addr start = 0;
    const char* name = dwfl_module_info(mod, nullptr, &start, nullptr, nullptr,
                                        nullptr, nullptr, nullptr);
    std::string base = name ? name : "";
    base = base.substr(base.find_last_of('/') + 1);
    char offset[32];
    std::snprintf(offset, sizeof(offset), "+0x%llx",
                  static_cast<unsigned long long>(pc - start));
    outer.function = base + offset;
  }
  outer.file = cur_file;
  outer.line = cur_line;
  frames.push_back(std::move(outer));
  return frames;
}

Symbolizer* SymbolizerCache::For(const std::vector<Module>& modules) {
  std::vector<std::pair<std::string, uintptr_t>> key;
  key.reserve(modules.size());
  for (const Module& m : modules) key.emplace_back(m.path, m.bias);
  if (symbolizer_ == nullptr || key_ != key) {
    symbolizer_ = std::make_unique<Symbolizer>();
    key_ = std::move(key);
  }
  return symbolizer_.get();
}

}  // namespace memmon::profile
