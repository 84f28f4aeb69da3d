// Copyright 2026 The memmon Authors.
// SPDX-License-Identifier: Apache-2.0
//
#include "preload/deepbind.h"

#include <dlfcn.h>
#include <elf.h>
#include <link.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cstddef>
#include <cstdint>

#include "preload/real_allocator.h"

// The hooks (hooks.cc), by their C names.
extern "C" {
void* malloc(size_t) noexcept;
void free(void*) noexcept;
void* calloc(size_t, size_t) noexcept;
void* realloc(void*, size_t) noexcept;
void* reallocarray(void*, size_t, size_t) noexcept;
int posix_memalign(void**, size_t, size_t) noexcept;
void* aligned_alloc(size_t, size_t) noexcept;
void* memalign(size_t, size_t) noexcept;
void* valloc(size_t) noexcept;
void* pvalloc(size_t) noexcept;
size_t malloc_usable_size(void*) noexcept;
}

namespace memmon::preload {
namespace {

struct Hook {
  const char* name;
  void* hook;
};
const Hook kHooks[] = {
    {"malloc", reinterpret_cast<void*>(&::malloc)},
    {"free", reinterpret_cast<void*>(&::free)},
    {"calloc", reinterpret_cast<void*>(&::calloc)},
    {"realloc", reinterpret_cast<void*>(&::realloc)},
    {"reallocarray", reinterpret_cast<void*>(&::reallocarray)},
    {"posix_memalign", reinterpret_cast<void*>(&::posix_memalign)},
    {"aligned_alloc", reinterpret_cast<void*>(&::aligned_alloc)},
    {"memalign", reinterpret_cast<void*>(&::memalign)},
    {"valloc", reinterpret_cast<void*>(&::valloc)},
    {"pvalloc", reinterpret_cast<void*>(&::pvalloc)},
    {"malloc_usable_size", reinterpret_cast<void*>(&::malloc_usable_size)},
};

#if defined(__x86_64__)
constexpr uint32_t kJumpSlot = R_X86_64_JUMP_SLOT;
constexpr uint32_t kGlobDat = R_X86_64_GLOB_DAT;
#elif defined(__aarch64__)
constexpr uint32_t kJumpSlot = R_AARCH64_JUMP_SLOT;
constexpr uint32_t kGlobDat = R_AARCH64_GLOB_DAT;
#else
constexpr uint32_t kJumpSlot = ~0u;
constexpr uint32_t kGlobDat = ~0u;
#endif

// glibc relocates the d_ptr of its in-memory dynamic sections; some ports
// leave them as file addresses.
uintptr_t DynPtr(const link_map* map, ElfW(Addr) v) {
  return v < map->l_addr ? v + map->l_addr : v;
}

// The hook for `name` when `handle`'s scope binds it to the next
// allocator's object (`next_base`); null otherwise.
void* HookFor(const char* name, void* handle, const void* next_base) {
  for (const Hook& h : kHooks) {
    if (strcmp(h.name, name) != 0) continue;
    void* bound = dlsym(handle, name);
    Dl_info info;
    if (bound == nullptr || dladdr(bound, &info) == 0) return nullptr;
    return info.dli_fbase == next_base ? h.hook : nullptr;
  }
  return nullptr;
}

// Writes `value` into `slot`, making its page writable first when it is in
// the RELRO area (read-only once relocated; Rebind restores that).
void Store(void** slot, void* value, bool relro) {
  if (relro) {
    const uintptr_t page_size = static_cast<uintptr_t>(sysconf(_SC_PAGESIZE));
    void* page = reinterpret_cast<void*>(reinterpret_cast<uintptr_t>(slot) &
                                         ~(page_size - 1));
    if (mprotect(page, page_size, PROT_READ | PROT_WRITE) != 0) return;
  }
  // One aligned word: a thread calling through the slot meanwhile reads
  // the old function or the new one.
  __atomic_store_n(slot, value, __ATOMIC_RELEASE);
}

// Rewrites `map`'s GOT slots for the allocation API that `handle`'s scope
// binds to the next allocator; restores read-only protection on the RELRO
// area afterwards.
int Rebind(const link_map* map, void* handle, const void* next_base,
           const ElfW(Phdr) * phdr, int phnum) {
  const ElfW(Sym)* symtab = nullptr;
  const char* strtab = nullptr;
  const ElfW(Rela)* jmprel = nullptr;
  size_t jmprel_size = 0;
  const ElfW(Rela)* rela = nullptr;
  size_t rela_size = 0;
  bool is_rela = true;
  for (const ElfW(Dyn)* d = map->l_ld; d->d_tag != DT_NULL; ++d) {
    switch (d->d_tag) {
      case DT_SYMTAB:
        symtab = reinterpret_cast<const ElfW(Sym)*>(DynPtr(map, d->d_un.d_ptr));
        break;
      case DT_STRTAB:
        strtab = reinterpret_cast<const char*>(DynPtr(map, d->d_un.d_ptr));
        break;
      case DT_JMPREL:
        jmprel =
            reinterpret_cast<const ElfW(Rela)*>(DynPtr(map, d->d_un.d_ptr));
        break;
      case DT_PLTRELSZ:
        jmprel_size = d->d_un.d_val;
        break;
      case DT_PLTREL:
        is_rela = d->d_un.d_val == DT_RELA;
        break;
      case DT_RELA:
        rela = reinterpret_cast<const ElfW(Rela)*>(DynPtr(map, d->d_un.d_ptr));
        break;
      case DT_RELASZ:
        rela_size = d->d_un.d_val;
        break;
      default:
        break;
    }
  }
  if (symtab == nullptr || strtab == nullptr || !is_rela) return 0;
  uintptr_t relro_lo = 0, relro_hi = 0;
  for (int i = 0; i < phnum; ++i) {
    if (phdr[i].p_type == PT_GNU_RELRO) {
      relro_lo = map->l_addr + phdr[i].p_vaddr;
      relro_hi = relro_lo + phdr[i].p_memsz;
    }
  }
  int rewritten = 0;
  auto scan = [&](const ElfW(Rela) * rels, size_t bytes) {
    if (rels == nullptr) return;
    for (size_t i = 0; i < bytes / sizeof(ElfW(Rela)); ++i) {
      const uint32_t type = ELF64_R_TYPE(rels[i].r_info);
      if (type != kJumpSlot && type != kGlobDat) continue;
      const ElfW(Sym)& sym = symtab[ELF64_R_SYM(rels[i].r_info)];
      // Only what the object imports: its own definitions are its own.
      if (sym.st_shndx != SHN_UNDEF || sym.st_name == 0) continue;
      void* hook = HookFor(strtab + sym.st_name, handle, next_base);
      if (hook == nullptr) continue;
      void** slot = reinterpret_cast<void**>(map->l_addr + rels[i].r_offset);
      if (*slot == hook) continue;
      const uintptr_t at = reinterpret_cast<uintptr_t>(slot);
      Store(slot, hook, at >= relro_lo && at < relro_hi);
      ++rewritten;
    }
  };
  scan(jmprel, jmprel_size);
  scan(rela, rela_size);
  if (rewritten > 0 && relro_hi > relro_lo) {
    const uintptr_t page_size = static_cast<uintptr_t>(sysconf(_SC_PAGESIZE));
    const uintptr_t lo = relro_lo & ~(page_size - 1);
    const uintptr_t hi = relro_hi & ~(page_size - 1);  // the loader's rounding
    if (hi > lo) mprotect(reinterpret_cast<void*>(lo), hi - lo, PROT_READ);
  }
  return rewritten;
}

struct RebindArgs {
  const link_map* first;  // the handle's object
  bool seen_first;
  void* handle;
  const void* next_base;
  int rewritten;
};

int RebindEach(dl_phdr_info* info, size_t, void* data) {
  auto* args = static_cast<RebindArgs*>(data);
  // dl_iterate_phdr goes in load order: the handle's object, then what it
  // loaded (and what other threads loaded since, which binds the allocation
  // API to the hooks anyway, being in the global scope).
  const link_map* map = nullptr;
  for (const link_map* m = args->first; m != nullptr; m = m->l_next) {
    if (m->l_addr == info->dlpi_addr && m->l_ld != nullptr &&
        strcmp(m->l_name, info->dlpi_name) == 0) {
      map = m;
      break;
    }
  }
  if (map == args->first) args->seen_first = true;
  if (!args->seen_first || map == nullptr) return 0;
  args->rewritten += Rebind(map, args->handle, args->next_base, info->dlpi_phdr,
                            info->dlpi_phnum);
  return 0;
}

// Appends `dir`/`name` ($ORIGIN in dir replaced by `origin`) to `out` and
// says whether that file exists.
bool TryDir(const char* dir, size_t dir_len, const char* origin,
            const char* name, char* out, size_t out_len) {
  size_t used = 0;
  auto put = [&](const char* s, size_t n) {
    if (used + n >= out_len) return false;
    memcpy(out + used, s, n);
    used += n;
    return true;
  };
  for (size_t i = 0; i < dir_len;) {
    if (strncmp(dir + i, "$ORIGIN", 7) == 0 && i + 7 <= dir_len) {
      if (!put(origin, strlen(origin))) return false;
      i += 7;
    } else if (strncmp(dir + i, "${ORIGIN}", 9) == 0 && i + 9 <= dir_len) {
      if (!put(origin, strlen(origin))) return false;
      i += 9;
    } else {
      if (!put(dir + i, 1)) return false;
      ++i;
    }
  }
  if (used == 0 || !put("/", 1) || !put(name, strlen(name)) || !put("", 1)) {
    return false;
  }
  return access(out, F_OK) == 0;
}

bool TryPath(const char* path, const char* origin, const char* name, char* out,
             size_t out_len) {
  if (path == nullptr) return false;
  while (*path != '\0') {
    const char* end = strchr(path, ':');
    const size_t len = end ? static_cast<size_t>(end - path) : strlen(path);
    if (len > 0 && TryDir(path, len, origin, name, out, out_len)) return true;
    if (end == nullptr) break;
    path = end + 1;
  }
  return false;
}

}  // namespace

int RebindAllocatorAfterDeepbind(void* handle) {
  if (handle == nullptr || g_real.malloc == nullptr) return 0;
  Dl_info next;
  if (dladdr(reinterpret_cast<void*>(g_real.malloc), &next) == 0) return 0;
  link_map* first = nullptr;
  if (dlinfo(handle, RTLD_DI_LINKMAP, &first) != 0 || first == nullptr) {
    return 0;
  }
  RebindArgs args{first, false, handle, next.dli_fbase, 0};
  dl_iterate_phdr(RebindEach, &args);
  return args.rewritten;
}

bool FindLibraryForCaller(const char* name, const void* caller, char* out,
                          unsigned long out_len) {
  Dl_info info;
  link_map* map = nullptr;
  if (dladdr1(caller, &info, reinterpret_cast<void**>(&map), RTLD_DL_LINKMAP) ==
          0 ||
      map == nullptr || map->l_ld == nullptr) {
    return false;
  }
  const char* strtab = nullptr;
  ElfW(Xword) rpath = 0, runpath = 0;
  bool has_rpath = false, has_runpath = false;
  for (const ElfW(Dyn)* d = map->l_ld; d->d_tag != DT_NULL; ++d) {
    if (d->d_tag == DT_STRTAB) {
      strtab = reinterpret_cast<const char*>(DynPtr(map, d->d_un.d_ptr));
    } else if (d->d_tag == DT_RPATH) {
      rpath = d->d_un.d_val;
      has_rpath = true;
    } else if (d->d_tag == DT_RUNPATH) {
      runpath = d->d_un.d_val;
      has_runpath = true;
    }
  }
  if (strtab == nullptr) return false;
  // $ORIGIN: the directory of the caller's file (the program's, for the
  // main map, whose l_name is empty).
  char origin[4096];
  const char* file = map->l_name;
  if (file == nullptr || file[0] == '\0') {
    ssize_t n = readlink("/proc/self/exe", origin, sizeof(origin) - 1);
    if (n <= 0) return false;
    origin[n] = '\0';
  } else {
    size_t n = strlen(file);
    if (n >= sizeof(origin)) return false;
    memcpy(origin, file, n + 1);
  }
  if (char* slash = strrchr(origin, '/')) {
    *slash = '\0';
  } else {
    return false;
  }
  if (has_rpath && !has_runpath &&
      TryPath(strtab + rpath, origin, name, out, out_len)) {
    return true;
  }
  if (!has_runpath) return false;  // LD_LIBRARY_PATH on: the same anywhere
  if (TryPath(getenv("LD_LIBRARY_PATH"), origin, name, out, out_len)) {
    return true;
  }
  return TryPath(strtab + runpath, origin, name, out, out_len);
}

}  // namespace memmon::preload
