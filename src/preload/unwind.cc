// Copyright 2026 The memmon Authors.
// SPDX-License-Identifier: Apache-2.0
//
#include "preload/unwind.h"

#include <link.h>
#include <pthread.h>
#include <sys/mman.h>

#include <atomic>
#include <cstddef>
#include <cstring>
#include <initializer_list>

#include "preload/in_malloc.h"
#include "preload/prefetch.h"

extern "C" void* __libc_stack_end;  // the dynamic loader's (GLIBC_2.2.5)

namespace memmon::preload {
namespace {

// ---- rules ----------------------------------------------------------------
// How to get from a frame to its caller's, for one return address:
//   cfa = (rbp_based ? rbp : rsp) + cfa_offset
//   return address = *(cfa - 8), caller's rsp = cfa
//   caller's rbp = rbp_saved ? *(cfa + rbp_offset) : rbp
// Packed in 64 bits with the epoch it was made in:
//   [0,24) epoch  [24,26) kind  26 rbp_based  27 rbp_saved
//   [28,52) cfa_offset (signed)  [52,64) rbp_offset / 8 (signed)
enum Kind : uint64_t { kFrame = 0, kOutermost = 1, kUnsupported = 2 };

struct Rule {
  Kind kind = kUnsupported;
  bool rbp_based = false;
  bool rbp_saved = false;
  int64_t cfa_offset = 0;
  int64_t rbp_offset = 0;
};

constexpr uint64_t kEpochMask = (uint64_t{1} << 24) - 1;
constexpr int64_t kMaxCfaOffset = (int64_t{1} << 23) - 1;
constexpr int64_t kMaxRbpSlots = (int64_t{1} << 11) - 1;

MEMMON_IN_MALLOC uint64_t Pack(const Rule& r, uint64_t epoch) {
  return (epoch & kEpochMask) | static_cast<uint64_t>(r.kind) << 24 |
         uint64_t{r.rbp_based} << 26 | uint64_t{r.rbp_saved} << 27 |
         (static_cast<uint64_t>(r.cfa_offset) & ((uint64_t{1} << 24) - 1))
             << 28 |
         (static_cast<uint64_t>(r.rbp_offset / 8) & 0xFFF) << 52;
}

MEMMON_IN_MALLOC Rule Unpack(uint64_t w) {
  Rule r;
  r.kind = static_cast<Kind>((w >> 24) & 3);
  r.rbp_based = (w >> 26) & 1;
  r.rbp_saved = (w >> 27) & 1;
  r.cfa_offset = static_cast<int64_t>(w << 12) >> 40;  // bits 28..51
  r.rbp_offset = (static_cast<int64_t>(w) >> 52) * 8;  // bits 52..63
  return r;
}

// A rule that fits the packing, or kUnsupported.
MEMMON_IN_MALLOC Rule Checked(Rule r) {
  if (r.kind != kFrame) return r;
  if (r.cfa_offset < -kMaxCfaOffset || r.cfa_offset > kMaxCfaOffset ||
      r.rbp_offset % 8 != 0 || r.rbp_offset / 8 < -kMaxRbpSlots ||
      r.rbp_offset / 8 > kMaxRbpSlots) {
    r.kind = kUnsupported;
  }
  return r;
}

// ---- the rule cache -------------------------------------------------------
// Direct-mapped, one entry per return address. Readers: key (acquire),
// rule (acquire), key again; the entry counts only if both keys are the
// return address looked up. Writers take the entry by swapping its key to
// kBusy, then store the rule and the key (release), so a reader that got a
// rule from a later writer sees that writer's kBusy or key on its second
// read. A writer that finds the entry busy does not cache.
constexpr int kCacheBits = 14;  // 16384 entries, 256 KiB (touched as used)
constexpr uintptr_t kBusy = 1;

struct Entry {
  std::atomic<uintptr_t> key;
  std::atomic<uint64_t> rule;
};
static_assert(sizeof(Entry) == 16);

constinit std::atomic<Entry*> g_cache{nullptr};  // set once, InitFastUnwind
constinit std::atomic<uint64_t> g_epoch{1};
constinit std::atomic<uint64_t> g_rules_parsed{0};
constinit std::atomic<uint64_t> g_fallbacks{0};

MEMMON_IN_MALLOC inline Entry& Slot(uintptr_t pc) {
  return g_cache.load(std::memory_order_relaxed)[(pc * 0x9E3779B97F4A7C15ull) >>
                                                 (64 - kCacheBits)];
}

MEMMON_IN_MALLOC inline bool CacheGet(uintptr_t pc, uint64_t epoch, Rule* out) {
  Entry& e = Slot(pc);
  if (e.key.load(std::memory_order_acquire) != pc) return false;
  const uint64_t w = e.rule.load(std::memory_order_acquire);
  if (e.key.load(std::memory_order_relaxed) != pc) return false;
  if ((w & kEpochMask) != (epoch & kEpochMask)) return false;
  *out = Unpack(w);
  return true;
}

MEMMON_IN_MALLOC void CachePut(uintptr_t pc, const Rule& r, uint64_t epoch) {
  Entry& e = Slot(pc);
  uintptr_t k = e.key.load(std::memory_order_relaxed);
  if (k == kBusy) return;
  if (!e.key.compare_exchange_strong(k, kBusy, std::memory_order_acquire))
    return;
  e.rule.store(Pack(r, epoch), std::memory_order_release);
  e.key.store(pc, std::memory_order_release);
}

// ---- reading .eh_frame ----------------------------------------------------
// The 32-bit length that says a 64-bit one follows (64-bit DWARF, which
// .eh_frame does not use): refused.
constexpr uint32_t kDwarf64Escape = 0xffffffff;

// DW_EH_PE pointer encodings (the LSB's .eh_frame format; <dwarf.h>
// DW_EH_PE_*): kPeUdata4 is DW_EH_PE_udata4, and so on. An encoding is a
// format (the low four bits) or'ed with an application (what the value is
// relative to, bits 4-6) and the indirect bit.
constexpr uint8_t kPeOmit = 0xff;
constexpr uint8_t kPeFormatMask = 0x0f, kPeApplicationMask = 0x70;
constexpr uint8_t kPeAbsptr = 0x00, kPeUleb128 = 0x01, kPeUdata2 = 0x02,
                  kPeUdata4 = 0x03, kPeUdata8 = 0x04, kPeSleb128 = 0x09,
                  kPeSdata2 = 0x0a, kPeSdata4 = 0x0b, kPeSdata8 = 0x0c;
constexpr uint8_t kPePcrel = 0x10, kPeDatarel = 0x30, kPeIndirect = 0x80;

// DWARF call frame instructions (DWARF 5, section 6.4.2; <dwarf.h>
// DW_CFA_*): kCfaDefCfaOffset is DW_CFA_def_cfa_offset, and so on.
// The three primary opcodes are the byte's high two bits, their operand (a
// delta or a register) its low six; the others are the whole byte, their
// operands following it.
constexpr uint8_t kCfaPrimaryMask = 0xc0, kCfaPrimaryOperandMask = 0x3f;
enum CfaOpcode : uint8_t {
  kCfaAdvanceLoc = 0x40,  // primary
  kCfaOffset = 0x80,      // primary
  kCfaRestore = 0xc0,     // primary
  kCfaNop = 0x00,
  kCfaSetLoc = 0x01,
  kCfaAdvanceLoc1 = 0x02,
  kCfaAdvanceLoc2 = 0x03,
  kCfaAdvanceLoc4 = 0x04,
  kCfaOffsetExtended = 0x05,
  kCfaRestoreExtended = 0x06,
  kCfaUndefined = 0x07,
  kCfaSameValue = 0x08,
  kCfaRegister = 0x09,
  kCfaRememberState = 0x0a,
  kCfaRestoreState = 0x0b,
  kCfaDefCfa = 0x0c,
  kCfaDefCfaRegister = 0x0d,
  kCfaDefCfaOffset = 0x0e,
  kCfaDefCfaExpression = 0x0f,
  kCfaExpression = 0x10,
  kCfaOffsetExtendedSf = 0x11,
  kCfaDefCfaSf = 0x12,
  kCfaDefCfaOffsetSf = 0x13,
  kCfaValOffset = 0x14,
  kCfaValOffsetSf = 0x15,
  kCfaValExpression = 0x16,
  kCfaGnuArgsSize = 0x2e,                // DW_CFA_GNU_args_size
  kCfaGnuNegativeOffsetExtended = 0x2f,  // DW_CFA_GNU_negative_offset_extended
};

// A cursor over bytes of a loaded object's .eh_frame or .eh_frame_hdr,
// which the loader mapped readable. `end` bounds every read.
struct MEMMON_IN_MALLOC Reader {
  const uint8_t* p;
  const uint8_t* end;
  bool ok = true;

  bool Need(size_t n) {
    if (!ok || static_cast<size_t>(end - p) < n) ok = false;
    return ok;
  }
  template <typename T>
  T Fixed() {
    T v{};
    if (!Need(sizeof(T))) return v;
    memcpy(&v, p, sizeof(T));
    p += sizeof(T);
    return v;
  }
  uint64_t Uleb() {
    uint64_t v = 0;
    for (int shift = 0; Need(1); shift += 7) {
      const uint8_t b = *p++;
      if (shift < 64) v |= static_cast<uint64_t>(b & 0x7f) << shift;
      if ((b & 0x80) == 0) return v;
    }
    return 0;
  }
  int64_t Sleb() {
    int64_t v = 0;
    int shift = 0;
    for (; Need(1);) {
      const uint8_t b = *p++;
      if (shift < 64) v |= static_cast<int64_t>(b & 0x7f) << shift;
      shift += 7;
      if ((b & 0x80) == 0) {
        if (shift < 64 && (b & 0x40)) v |= -(int64_t{1} << shift);
        return v;
      }
    }
    return 0;
  }
  // An encoded pointer; `data_base` is what DW_EH_PE_datarel is relative
  // to. Indirect and the rarer bases are refused (ok = false).
  uintptr_t Pointer(uint8_t enc, uintptr_t data_base) {
    if (enc == kPeOmit) return 0;
    const uintptr_t here = reinterpret_cast<uintptr_t>(p);
    uint64_t v = 0;
    switch (enc & kPeFormatMask) {
      case kPeAbsptr:
        v = Fixed<uint64_t>();
        break;
      case kPeUleb128:
        v = Uleb();
        break;
      case kPeUdata2:
        v = Fixed<uint16_t>();
        break;
      case kPeUdata4:
        v = Fixed<uint32_t>();
        break;
      case kPeUdata8:
        v = Fixed<uint64_t>();
        break;
      case kPeSleb128:
        v = static_cast<uint64_t>(Sleb());
        break;
      case kPeSdata2:
        v = static_cast<uint64_t>(int64_t{Fixed<int16_t>()});
        break;
      case kPeSdata4:
        v = static_cast<uint64_t>(int64_t{Fixed<int32_t>()});
        break;
      case kPeSdata8:
        v = static_cast<uint64_t>(Fixed<int64_t>());
        break;
      default:
        ok = false;
        return 0;
    }
    switch (enc & kPeApplicationMask) {
      case kPeAbsptr:  // the value itself
        break;
      case kPePcrel:
        v += here;
        break;
      case kPeDatarel:
        v += data_base;
        break;
      default:
        ok = false;
        return 0;
    }
    if (enc & kPeIndirect) ok = false;
    return static_cast<uintptr_t>(v);
  }
};

// The row of the CFI table that applies at one address, for the registers
// a Rule can express. DWARF numbers on x86-64: 6 rbp, 7 rsp, 16 the return
// address.
constexpr uint64_t kRegRbp = 6, kRegRsp = 7, kRegRa = 16;

struct RegRule {
  enum How : uint8_t { kSame, kUndefined, kOffset, kOther } how = kSame;
  int64_t offset = 0;
};

struct Row {
  uint64_t cfa_reg = kRegRsp;
  int64_t cfa_offset = 8;
  bool cfa_other = false;  // an expression or another register
  RegRule rbp, ra;
};

struct Cie {
  uint64_t code_align = 1;
  int64_t data_align = -8;
  uint64_t ra_reg = kRegRa;
  uint8_t fde_encoding = kPeAbsptr;
  bool has_augmentation_data = false;
  bool signal_frame = false;
  const uint8_t* insns = nullptr;
  const uint8_t* insns_end = nullptr;
};

MEMMON_IN_MALLOC bool ParseCie(const uint8_t* at, Cie* cie) {
  Reader r{at, at + 16};
  uint64_t length = r.Fixed<uint32_t>();
  if (!r.ok || length == 0 || length == kDwarf64Escape) return false;
  r.end = r.p + length;
  if (r.Fixed<uint32_t>() != 0) return false;  // not a CIE
  const uint8_t version = r.Fixed<uint8_t>();
  if (version != 1 && version != 3) return false;
  const char* aug = reinterpret_cast<const char*>(r.p);
  size_t aug_len = strnlen(aug, static_cast<size_t>(r.end - r.p));
  if (!r.Need(aug_len + 1)) return false;
  r.p += aug_len + 1;
  cie->code_align = r.Uleb();
  cie->data_align = r.Sleb();
  cie->ra_reg = version == 1 ? r.Fixed<uint8_t>() : r.Uleb();
  if (aug_len > 0 && aug[0] == 'z') {
    cie->has_augmentation_data = true;
    const uint64_t len = r.Uleb();
    if (!r.Need(len)) return false;
    const uint8_t* data_end = r.p + len;
    for (size_t i = 1; i < aug_len; ++i) {
      switch (aug[i]) {
        case 'R':
          cie->fde_encoding = r.Fixed<uint8_t>();
          break;
        case 'L':
          r.Fixed<uint8_t>();
          break;
        case 'P': {
          const uint8_t enc = r.Fixed<uint8_t>();
          // The personality pointer: skipped, whatever its encoding.
          r.Pointer(enc & ~kPeIndirect, 0);
          break;
        }
        case 'S':
          cie->signal_frame = true;
          break;
        case 'B':
          break;
        default:
          r.p = data_end;
          i = aug_len;
          break;  // unknown: skip data
      }
    }
    r.p = data_end;
  } else if (aug_len > 0) {
    return false;  // an augmentation we cannot skip
  }
  cie->insns = r.p;
  cie->insns_end = r.end;
  return r.ok;
}

// Runs CFI instructions [p, end) from `row`, stopping before the first
// advance past `target` (pc - start). `initial` is the row after the CIE's
// instructions (for DW_CFA_restore). False on an instruction it does not
// know: the frame needs libunwind.
MEMMON_IN_MALLOC bool Execute(const uint8_t* p, const uint8_t* end,
                              const Cie& cie, uintptr_t start, uintptr_t target,
                              const Row& initial, Row* row) {
  constexpr int kStateDepth = 8;
  Row saved[kStateDepth];
  int depth = 0;
  uintptr_t loc = start;
  Reader r{p, end};
  auto set_reg = [&](uint64_t reg, RegRule rule) {
    if (reg == kRegRbp) row->rbp = rule;
    if (reg == cie.ra_reg) row->ra = rule;
    if (reg == kRegRsp) row->cfa_other = true;  // rsp restored from memory
  };
  auto restore_reg = [&](uint64_t reg) {
    if (reg == kRegRbp) row->rbp = initial.rbp;
    if (reg == cie.ra_reg) row->ra = initial.ra;
  };
  while (r.ok && r.p < r.end) {
    const uint8_t op = *r.p++;
    const uint8_t primary = op & kCfaPrimaryMask;
    const uint8_t operand = op & kCfaPrimaryOperandMask;
    uint64_t delta = 0;
    bool advance = false;
    if (primary == kCfaAdvanceLoc) {
      delta = operand;
      advance = true;
    } else if (primary == kCfaOffset) {  // the operand is the register
      set_reg(operand, {RegRule::kOffset,
                        static_cast<int64_t>(r.Uleb()) * cie.data_align});
    } else if (primary == kCfaRestore) {
      restore_reg(operand);
    } else {
      switch (op) {
        case kCfaNop:
          break;
        case kCfaSetLoc:
          loc = r.Pointer(cie.fde_encoding, 0);
          if (loc > target) return r.ok;
          break;
        case kCfaAdvanceLoc1:
          delta = r.Fixed<uint8_t>();
          advance = true;
          break;
        case kCfaAdvanceLoc2:
          delta = r.Fixed<uint16_t>();
          advance = true;
          break;
        case kCfaAdvanceLoc4:
          delta = r.Fixed<uint32_t>();
          advance = true;
          break;
        case kCfaOffsetExtended: {
          const uint64_t reg = r.Uleb();
          set_reg(reg, {RegRule::kOffset,
                        static_cast<int64_t>(r.Uleb()) * cie.data_align});
          break;
        }
        case kCfaRestoreExtended:
          restore_reg(r.Uleb());
          break;
        case kCfaUndefined:
          set_reg(r.Uleb(), {RegRule::kUndefined, 0});
          break;
        case kCfaSameValue:
          set_reg(r.Uleb(), {RegRule::kSame, 0});
          break;
        case kCfaRegister: {  // reg saved in another register
          const uint64_t reg = r.Uleb();
          r.Uleb();
          set_reg(reg, {RegRule::kOther, 0});
          break;
        }
        case kCfaRememberState:
          if (depth == kStateDepth) return false;
          saved[depth++] = *row;
          break;
        case kCfaRestoreState:
          if (depth == 0) return false;
          *row = saved[--depth];
          break;
        case kCfaDefCfa:
          row->cfa_reg = r.Uleb();
          row->cfa_offset = static_cast<int64_t>(r.Uleb());
          row->cfa_other = false;
          break;
        case kCfaDefCfaRegister:
          row->cfa_reg = r.Uleb();
          break;
        case kCfaDefCfaOffset:
          row->cfa_offset = static_cast<int64_t>(r.Uleb());
          break;
        case kCfaDefCfaExpression: {
          const uint64_t len = r.Uleb();
          if (!r.Need(len)) return false;
          r.p += len;
          row->cfa_other = true;
          break;
        }
        case kCfaExpression:
        case kCfaValExpression: {
          const uint64_t reg = r.Uleb();
          const uint64_t len = r.Uleb();
          if (!r.Need(len)) return false;
          r.p += len;
          set_reg(reg, {RegRule::kOther, 0});
          break;
        }
        case kCfaOffsetExtendedSf: {
          const uint64_t reg = r.Uleb();
          set_reg(reg, {RegRule::kOffset, r.Sleb() * cie.data_align});
          break;
        }
        case kCfaDefCfaSf:
          row->cfa_reg = r.Uleb();
          row->cfa_offset = r.Sleb() * cie.data_align;
          row->cfa_other = false;
          break;
        case kCfaDefCfaOffsetSf:
          row->cfa_offset = r.Sleb() * cie.data_align;
          break;
        case kCfaValOffset:
        case kCfaValOffsetSf: {
          const uint64_t reg = r.Uleb();
          if (op == kCfaValOffset)
            r.Uleb();
          else
            r.Sleb();
          set_reg(reg, {RegRule::kOther, 0});
          break;
        }
        case kCfaGnuArgsSize:
          r.Uleb();
          break;
        case kCfaGnuNegativeOffsetExtended: {
          const uint64_t reg = r.Uleb();
          set_reg(reg, {RegRule::kOffset,
                        -static_cast<int64_t>(r.Uleb()) * cie.data_align});
          break;
        }
        default:
          return false;
      }
    }
    if (advance) {
      loc += delta * cie.code_align;
      if (loc > target) return r.ok;
    }
  }
  return r.ok;
}

// The rule for a frame whose code is at `pc`, from the FDE at `fde`. The
// FDE's own length bounds what is read; its CIE's, the CIE.
MEMMON_IN_MALLOC Rule RuleFromFde(const uint8_t* fde, uintptr_t pc) {
  Rule unsupported;
  Reader r{fde, fde + 4};
  const uint64_t length = r.Fixed<uint32_t>();
  if (!r.ok || length == 0 || length == kDwarf64Escape) return unsupported;
  r.end = r.p + length;
  const uint8_t* id_at = r.p;
  const uint32_t cie_offset = r.Fixed<uint32_t>();
  if (!r.ok || cie_offset == 0) return unsupported;  // a CIE, not an FDE
  Cie cie;
  if (!ParseCie(id_at - cie_offset, &cie)) return unsupported;
  const uintptr_t start = r.Pointer(cie.fde_encoding, 0);
  // The range is a length: the format alone, no application.
  const uintptr_t range = r.Pointer(cie.fde_encoding & kPeFormatMask, 0);
  if (!r.ok || pc < start || pc - start >= range) return unsupported;
  if (cie.has_augmentation_data) {
    const uint64_t len = r.Uleb();
    if (!r.Need(len)) return unsupported;
    r.p += len;
  }
  if (cie.signal_frame) return unsupported;
  Row initial;
  initial.ra = {RegRule::kOffset, -8};
  if (!Execute(cie.insns, cie.insns_end, cie, start, UINTPTR_MAX, initial,
               &initial)) {
    return unsupported;
  }
  Row row = initial;
  if (!Execute(r.p, r.end, cie, start, pc, initial, &row)) return unsupported;

  Rule rule;
  if (row.ra.how == RegRule::kUndefined) {
    rule.kind = kOutermost;
    return rule;
  }
  if (row.cfa_other || (row.cfa_reg != kRegRsp && row.cfa_reg != kRegRbp) ||
      row.ra.how != RegRule::kOffset || row.ra.offset != -8 ||
      (row.rbp.how != RegRule::kSame && row.rbp.how != RegRule::kOffset)) {
    return unsupported;
  }
  rule.kind = kFrame;
  rule.rbp_based = row.cfa_reg == kRegRbp;
  rule.cfa_offset = row.cfa_offset;
  rule.rbp_saved = row.rbp.how == RegRule::kOffset;
  rule.rbp_offset = rule.rbp_saved ? row.rbp.offset : 0;
  return Checked(rule);
}

// Binary search of .eh_frame_hdr's sorted table for the FDE covering pc.
MEMMON_IN_MALLOC const uint8_t* FindFde(const uint8_t* hdr, uintptr_t pc) {
  // Bounded by the table's own size below; the header is 4 bytes + two
  // encoded values.
  Reader r{hdr, hdr + 64};
  if (r.Fixed<uint8_t>() != 1) return nullptr;  // version
  const uint8_t frame_ptr_enc = r.Fixed<uint8_t>();
  const uint8_t count_enc = r.Fixed<uint8_t>();
  const uint8_t table_enc = r.Fixed<uint8_t>();
  const uintptr_t hdr_base = reinterpret_cast<uintptr_t>(hdr);
  r.Pointer(frame_ptr_enc, hdr_base);
  const uint64_t count = r.Pointer(count_enc, hdr_base);
  // What every linker writes: datarel sdata4 pairs.
  if (!r.ok || table_enc != (kPeDatarel | kPeSdata4) || count == 0)
    return nullptr;
  const int32_t* table = reinterpret_cast<const int32_t*>(r.p);
  uint64_t lo = 0, hi = count;
  while (hi - lo > 1) {
    const uint64_t mid = lo + (hi - lo) / 2;
    if (hdr_base + static_cast<intptr_t>(table[2 * mid]) <= pc)
      lo = mid;
    else
      hi = mid;
  }
  if (hdr_base + static_cast<intptr_t>(table[2 * lo]) > pc) return nullptr;
  // Its range is checked against pc by RuleFromFde.
  return reinterpret_cast<const uint8_t*>(
      hdr_base + static_cast<intptr_t>(table[2 * lo + 1]));
}

struct FindArgs {
  uintptr_t pc;
  Rule rule;
};

MEMMON_IN_MALLOC int FindInObject(dl_phdr_info* info, size_t, void* data) {
  auto* args = static_cast<FindArgs*>(data);
  const ElfW(Phdr)* eh = nullptr;
  bool inside = false;
  for (int i = 0; i < info->dlpi_phnum; ++i) {
    const ElfW(Phdr)& ph = info->dlpi_phdr[i];
    if (ph.p_type == PT_LOAD) {
      const uintptr_t start = info->dlpi_addr + ph.p_vaddr;
      if (args->pc - start < ph.p_memsz) inside = true;
    } else if (ph.p_type == PT_GNU_EH_FRAME) {
      eh = &ph;
    }
  }
  if (!inside) return 0;
  if (eh == nullptr) return 1;
  const uint8_t* fde =
      FindFde(reinterpret_cast<const uint8_t*>(info->dlpi_addr + eh->p_vaddr),
              args->pc);
  if (fde != nullptr) args->rule = RuleFromFde(fde, args->pc);
  return 1;
}

// Takes the loader's dl_load_write_lock (dl_iterate_phdr) while it finds
// and parses the FDE: see in_malloc.h for when, and for the risk.
MEMMON_IN_MALLOC Rule ParseRule(uintptr_t pc) {
  FindArgs args{pc, Rule{}};
  dl_iterate_phdr(FindInObject, &args);
  g_rules_parsed.fetch_add(1, std::memory_order_relaxed);
  return args.rule;
}

// Each thread's last walk: the return address and rule at each depth.
struct Memo {
  uintptr_t pc;
  uint64_t rule;
};
constexpr int kMemoDepth = 96;  // >= the deepest walk the sampler asks for
alignas(64) thread_local Memo t_memo[kMemoDepth];

}  // namespace

void PrefetchUnwindState() {
  PrefetchLine(&g_cache);
  PrefetchLine(&g_epoch);
  // A walk of up to 12 frames reads three lines of the memo.
  for (int i = 0; i < 12; i += 64 / static_cast<int>(sizeof(Memo))) {
    PrefetchLine(&t_memo[i]);
  }
}

namespace {

MEMMON_IN_MALLOC inline Rule RuleFor(uintptr_t pc, uint64_t epoch) {
  Rule rule;
  if (CacheGet(pc, epoch, &rule)) return rule;
  rule = ParseRule(pc);
  CachePut(pc, rule, epoch);
  return rule;
}

}  // namespace

bool CurrentThreadStack(StackBounds* out) {
  // Without allocating (this runs inside malloc) and without a system call:
  // the main thread's frames are all below __libc_stack_end (the stack
  // pointer the process started with); another thread's are below its
  // descriptor, which glibc keeps at the top of the thread's stack block
  // (x86-64 puts the thread pointer at the top of static TLS, above the
  // stack). A stack pointer in neither (a coroutine's or an alternate
  // signal stack) gets no bounds.
  constexpr uintptr_t kMaxStack = uintptr_t{1} << 30;
  const uintptr_t sp = reinterpret_cast<uintptr_t>(__builtin_frame_address(0));
  const uintptr_t main_top = reinterpret_cast<uintptr_t>(__libc_stack_end);
  const uintptr_t thread_top = reinterpret_cast<uintptr_t>(pthread_self());
  for (uintptr_t top : {main_top, thread_top}) {
    if (top > sp && top - sp < kMaxStack) {
      out->hi = top;
      out->lo = top > kMaxStack ? top - kMaxStack : 0;
      return true;
    }
  }
  return false;
}

bool InitFastUnwind() {
  if (g_cache.load(std::memory_order_acquire) != nullptr) return true;
  void* mem = mmap(nullptr, sizeof(Entry) << kCacheBits, PROT_READ | PROT_WRITE,
                   MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
  if (mem == MAP_FAILED) return false;
  // Two threads' first samples may both get here: one mapping wins.
  Entry* expected = nullptr;
  if (!g_cache.compare_exchange_strong(expected, static_cast<Entry*>(mem),
                                       std::memory_order_acq_rel)) {
    munmap(mem, sizeof(Entry) << kCacheBits);
  }
  return true;
}

void InvalidateFastUnwind() { g_epoch.fetch_add(1, std::memory_order_acq_rel); }

FastUnwindStats GetFastUnwindStats() {
  return {g_rules_parsed.load(std::memory_order_relaxed),
          g_fallbacks.load(std::memory_order_relaxed)};
}

}  // namespace memmon::preload

// FastBacktrace's entry, in assembly: at a function's first instruction the
// caller's registers are all known (the return address at (%rsp), the
// caller's %rsp just above it, its %rbp untouched), which C++ cannot say.
// It passes them on to the walk by a tail jump.
asm(R"(
  .text
  .p2align 4
  .globl memmon_unwind_fast_backtrace
  .hidden memmon_unwind_fast_backtrace
  .type memmon_unwind_fast_backtrace, @function
memmon_unwind_fast_backtrace:
  .cfi_startproc
  movq (%rsp), %rcx
  leaq 8(%rsp), %r8
  movq %rbp, %r9
  jmp memmon_unwind_walk
  .cfi_endproc
  .size memmon_unwind_fast_backtrace, .-memmon_unwind_fast_backtrace
)");

// Reads other frames' stack slots: not for AddressSanitizer to check.
extern "C" MEMMON_IN_MALLOC
    __attribute__((visibility("hidden"), used,
                   no_sanitize("address", "hwaddress"))) int
    memmon_unwind_walk(uintptr_t* frames, int max,
                       const memmon::preload::StackBounds* stack, uintptr_t pc,
                       uintptr_t rsp, uintptr_t rbp) {
  using namespace memmon::preload;  // NOLINT
  const uintptr_t lo = stack->lo, hi = stack->hi;
  if (g_cache.load(std::memory_order_relaxed) == nullptr || rsp < lo ||
      rsp >= hi) {
    return -1;
  }
  if (max > kMemoDepth) max = kMemoDepth;
  const uint64_t epoch = g_epoch.load(std::memory_order_acquire);
  int n = 0;
  while (n < max) {
    // The rule for this depth as this thread's last walk found it, when the
    // return address is the same (a thread's stacks repeat): two adjacent
    // cache lines for a whole stack, instead of one line of the shared
    // cache per frame, all cold by the next sample.
    Memo& memo = t_memo[n];
    frames[n++] = pc;
    Rule rule;
    if (memo.pc == pc && (memo.rule & kEpochMask) == (epoch & kEpochMask)) {
      rule = Unpack(memo.rule);
    } else {
      // A return address: the call is the instruction before it.
      rule = RuleFor(pc - 1, epoch);
      memo.pc = pc;
      memo.rule = Pack(rule, epoch);
    }
    if (rule.kind == kOutermost) return n;
    if (rule.kind != kFrame) break;
    const uintptr_t cfa =
        (rule.rbp_based ? rbp : rsp) + static_cast<uintptr_t>(rule.cfa_offset);
    // The caller's frame is above this one, and every read is inside the
    // stack: a wrong rule gives a wrong frame or a fallback, never a fault.
    if (cfa <= rsp || cfa > hi || (cfa & 7) != 0) break;
    const uintptr_t ra = reinterpret_cast<const uintptr_t*>(cfa)[-1];
    if (rule.rbp_saved) {
      const uintptr_t slot = cfa + static_cast<uintptr_t>(rule.rbp_offset);
      if (slot < rsp || slot > hi - 8) break;
      rbp = *reinterpret_cast<const uintptr_t*>(slot);
    }
    rsp = cfa;
    pc = ra;
    if (pc == 0) return n;
  }
  if (n == max) return n;
  g_fallbacks.fetch_add(1, std::memory_order_relaxed);
  return -1;
}
