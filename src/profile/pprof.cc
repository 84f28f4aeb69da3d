// Copyright 2026 The memmon Authors.
// SPDX-License-Identifier: Apache-2.0
//
// Field numbers from google/pprof proto/profile.proto:
//   Profile: 1 sample_type, 2 sample, 3 mapping, 4 location, 5 function,
//            6 string_table, 7 drop_frames, 8 keep_frames, 9 time_nanos,
//            10 duration_nanos, 11 period_type, 12 period, 13 comment,
//            14 default_sample_type
//   ValueType: 1 type, 2 unit
//   Sample: 1 location_id (packed), 2 value (packed), 3 label
//   Label: 1 key, 2 str, 3 num, 4 num_unit
//   Mapping: 1 id, 2 memory_start, 3 memory_limit, 4 file_offset, 5 filename,
//            6 build_id, 7 has_functions, 8 has_filenames,
//            9 has_line_numbers, 10 has_inline_frames
//   Location: 1 id, 2 mapping_id, 3 address, 4 line, 5 is_folded
//   Line: 1 function_id, 2 line
//   Function: 1 id, 2 name, 3 system_name, 4 filename, 5 start_line

#include "profile/pprof.h"

#include <zlib.h>

#include <fstream>
#include <iterator>
#include <sstream>
#include <unordered_map>

#include "profile/atomic_file.h"

namespace memmon::profile {

int Profile::SampleTypeIndex(const std::string& type) const {
  for (std::size_t i = 0; i < sample_types.size(); ++i) {
    if (sample_types[i].type == type) return static_cast<int>(i);
  }
  return -1;
}

const Location* Profile::FindLocation(uint64_t id) const {
  if (id >= 1 && id <= locations.size() && locations[id - 1].id == id) {
    return &locations[id - 1];
  }
  for (const Location& l : locations) {
    if (l.id == id) return &l;
  }
  return nullptr;
}

const Function* Profile::FindFunction(uint64_t id) const {
  if (id >= 1 && id <= functions.size() && functions[id - 1].id == id) {
    return &functions[id - 1];
  }
  for (const Function& f : functions) {
    if (f.id == id) return &f;
  }
  return nullptr;
}

namespace {

// ---- encoding ------------------------------------------------------------
enum WireType { kVarint = 0, kFixed64 = 1, kLengthDelimited = 2, kFixed32 = 5 };

class Writer {
 public:
  void Varint(uint64_t v) {
    while (v >= 0x80) {
      out_.push_back(static_cast<char>((v & 0x7F) | 0x80));
      v >>= 7;
    }
    out_.push_back(static_cast<char>(v));
  }
  void Tag(int field, WireType type) {
    Varint((static_cast<uint64_t>(field) << 3) | type);
  }
  // Scalars are omitted when zero, as proto3 does.
  void Uint(int field, uint64_t v) {
    if (v == 0) return;
    Tag(field, kVarint);
    Varint(v);
  }
  void Int(int field, int64_t v) { Uint(field, static_cast<uint64_t>(v)); }
  void Bool(int field, bool v) { Uint(field, v ? 1 : 0); }
  void Bytes(int field, std::string_view s) {
    Tag(field, kLengthDelimited);
    Varint(s.size());
    out_.append(s);
  }
  void Message(int field, const Writer& w) { Bytes(field, w.out_); }
  template <typename T>
  void Packed(int field, const std::vector<T>& v) {
    if (v.empty()) return;
    Writer inner;
    for (T x : v) inner.Varint(static_cast<uint64_t>(x));
    Message(field, inner);
  }
  const std::string& data() const { return out_; }

 private:
  std::string out_;
};

class StringTable {
 public:
  StringTable() { Intern(""); }
  int64_t Intern(const std::string& s) {
    auto [it, inserted] =
        index_.emplace(s, static_cast<int64_t>(strings_.size()));
    if (inserted) strings_.push_back(s);
    return it->second;
  }
  const std::vector<std::string>& strings() const { return strings_; }

 private:
  std::unordered_map<std::string, int64_t> index_;
  std::vector<std::string> strings_;
};

Writer EncodeValueType(const ValueType& v, StringTable* st) {
  Writer w;
  w.Int(1, st->Intern(v.type));
  w.Int(2, st->Intern(v.unit));
  return w;
}

}  // namespace

std::string EncodeProfile(const Profile& p) {
  StringTable st;
  Writer out;
  for (const ValueType& v : p.sample_types)
    out.Message(1, EncodeValueType(v, &st));
  for (const Sample& s : p.samples) {
    Writer w;
    w.Packed(1, s.location_ids);
    w.Packed(2, s.values);
    for (const Label& l : s.labels) {
      Writer lw;
      lw.Int(1, st.Intern(l.key));
      if (!l.str.empty()) lw.Int(2, st.Intern(l.str));
      lw.Int(3, l.num);
      if (!l.num_unit.empty()) lw.Int(4, st.Intern(l.num_unit));
      w.Message(3, lw);
    }
    out.Message(2, w);
  }
  for (const Mapping& m : p.mappings) {
    Writer w;
    w.Uint(1, m.id);
    w.Uint(2, m.memory_start);
    w.Uint(3, m.memory_limit);
    w.Uint(4, m.file_offset);
    w.Int(5, st.Intern(m.filename));
    w.Int(6, st.Intern(m.build_id));
    w.Bool(7, m.has_functions);
    w.Bool(8, m.has_filenames);
    w.Bool(9, m.has_line_numbers);
    w.Bool(10, m.has_inline_frames);
    out.Message(3, w);
  }
  for (const Location& l : p.locations) {
    Writer w;
    w.Uint(1, l.id);
    w.Uint(2, l.mapping_id);
    w.Uint(3, l.address);
    for (const Line& line : l.lines) {
      Writer lw;
      lw.Uint(1, line.function_id);
      lw.Int(2, line.line);
      w.Message(4, lw);
    }
    w.Bool(5, l.is_folded);
    out.Message(4, w);
  }
  for (const Function& f : p.functions) {
    Writer w;
    w.Uint(1, f.id);
    w.Int(2, st.Intern(f.name));
    w.Int(3, st.Intern(f.system_name));
    w.Int(4, st.Intern(f.filename));
    w.Int(5, f.start_line);
    out.Message(5, w);
  }
  int64_t drop = p.drop_frames.empty() ? 0 : st.Intern(p.drop_frames);
  int64_t keep = p.keep_frames.empty() ? 0 : st.Intern(p.keep_frames);
  Writer period_type = EncodeValueType(p.period_type, &st);
  std::vector<int64_t> comments;
  for (const std::string& c : p.comments) comments.push_back(st.Intern(c));
  int64_t default_type =
      p.default_sample_type.empty() ? 0 : st.Intern(p.default_sample_type);
  // The string table goes last but before the fields that only refer to it:
  // readers accept any order, so nothing depends on this.
  for (const std::string& s : st.strings()) out.Bytes(6, s);
  out.Int(7, drop);
  out.Int(8, keep);
  out.Int(9, p.time_nanos);
  out.Int(10, p.duration_nanos);
  out.Message(11, period_type);
  out.Int(12, p.period);
  for (int64_t c : comments) out.Int(13, c);
  out.Int(14, default_type);
  return out.data();
}

Status Gzip(std::string_view data, std::string* out, int level) {
  z_stream z{};
  if (deflateInit2(&z, level, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) !=
      Z_OK) {
    return Status(StatusCode::kInternal, "deflateInit2 failed");
  }
  out->resize(deflateBound(&z, static_cast<uLong>(data.size())) + 32);
  z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(data.data()));
  z.avail_in = static_cast<uInt>(data.size());
  z.next_out = reinterpret_cast<Bytef*>(out->data());
  z.avail_out = static_cast<uInt>(out->size());
  int rc = deflate(&z, Z_FINISH);
  out->resize(z.total_out);
  deflateEnd(&z);
  if (rc != Z_STREAM_END)
    return Status(StatusCode::kInternal, "deflate failed");
  return Status::Ok();
}

Status Gunzip(std::string_view data, std::string* out, std::size_t max_bytes) {
  z_stream z{};
  // 15 + 32: accept gzip or zlib headers.
  if (inflateInit2(&z, 15 + 32) != Z_OK) {
    return Status(StatusCode::kInternal, "inflateInit2 failed");
  }
  out->clear();
  z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(data.data()));
  z.avail_in = static_cast<uInt>(data.size());
  char buf[64 * 1024];
  int rc = Z_OK;
  while (rc != Z_STREAM_END) {
    z.next_out = reinterpret_cast<Bytef*>(buf);
    z.avail_out = sizeof(buf);
    rc = inflate(&z, Z_NO_FLUSH);
    if (rc != Z_OK && rc != Z_STREAM_END) {
      inflateEnd(&z);
      return Status::InvalidArgument(std::string("corrupt gzip data: ") +
                                     (z.msg ? z.msg : "truncated"));
    }
    out->append(buf, sizeof(buf) - z.avail_out);
    if (out->size() > max_bytes) {
      inflateEnd(&z);
      return Status::InvalidArgument("gzip data inflates past the size limit");
    }
    if (rc == Z_OK && z.avail_in == 0 && z.avail_out != 0) {
      inflateEnd(&z);
      return Status::InvalidArgument("corrupt gzip data: truncated");
    }
  }
  inflateEnd(&z);
  return Status::Ok();
}

namespace {

// ---- decoding ------------------------------------------------------------
class Reader {
 public:
  explicit Reader(std::string_view data)
      : p_(data.data()), end_(p_ + data.size()) {}
  bool done() const { return p_ >= end_; }

  bool Varint(uint64_t* v) {
    uint64_t result = 0;
    for (int shift = 0; shift < 70; shift += 7) {
      if (p_ >= end_) return Fail("truncated varint");
      uint8_t b = static_cast<uint8_t>(*p_++);
      if (shift == 63 && b > 1) return Fail("varint overflows 64 bits");
      result |= static_cast<uint64_t>(b & 0x7F) << shift;
      if ((b & 0x80) == 0) {
        *v = result;
        return true;
      }
    }
    return Fail("varint longer than 10 bytes");
  }
  bool Tag(int* field, int* wire) {
    uint64_t t;
    if (!Varint(&t)) return false;
    if ((t >> 3) == 0 || (t >> 3) > (1u << 29)) return Fail("bad field number");
    *field = static_cast<int>(t >> 3);
    *wire = static_cast<int>(t & 7);
    return true;
  }
  bool Bytes(std::string_view* s) {
    uint64_t n;
    if (!Varint(&n)) return false;
    if (n > static_cast<uint64_t>(end_ - p_))
      return Fail("length past the end");
    *s = std::string_view(p_, static_cast<std::size_t>(n));
    p_ += n;
    return true;
  }
  bool Skip(int wire) {
    uint64_t v;
    std::string_view s;
    switch (wire) {
      case kVarint:
        return Varint(&v);
      case kFixed64:
        return Advance(8);
      case kLengthDelimited:
        return Bytes(&s);
      case kFixed32:
        return Advance(4);
      default:
        return Fail("unsupported wire type " + std::to_string(wire));
    }
  }
  // A scalar field, accepting the packed form for repeated numbers.
  bool Numbers(int wire, std::vector<uint64_t>* out) {
    if (wire == kVarint) {
      uint64_t v;
      if (!Varint(&v)) return false;
      out->push_back(v);
      return true;
    }
    if (wire != kLengthDelimited)
      return Fail("bad wire type for a number list");
    std::string_view s;
    if (!Bytes(&s)) return false;
    Reader inner(s);
    while (!inner.done()) {
      uint64_t v;
      if (!inner.Varint(&v)) return Fail(inner.error());
      out->push_back(v);
    }
    return true;
  }
  bool Number(int wire, uint64_t* v) {
    if (wire != kVarint) return Fail("bad wire type for a number");
    return Varint(v);
  }
  bool Message(int wire, std::string_view* s) {
    if (wire != kLengthDelimited) return Fail("bad wire type for a message");
    return Bytes(s);
  }

  bool Fail(std::string e) {
    if (error_.empty()) error_ = std::move(e);
    return false;
  }
  const std::string& error() const { return error_; }

 private:
  bool Advance(std::size_t n) {
    if (n > static_cast<std::size_t>(end_ - p_)) return Fail("truncated field");
    p_ += n;
    return true;
  }
  const char* p_;
  const char* end_;
  std::string error_;
};

// Raw messages with string indices, resolved once the table is known.
struct RawValueType {
  uint64_t type = 0, unit = 0;
};
struct RawLabel {
  uint64_t key = 0, str = 0, num = 0, num_unit = 0;
};
struct RawSample {
  std::vector<uint64_t> locations, values;
  std::vector<RawLabel> labels;
};
struct RawMapping {
  Mapping m;
  uint64_t filename = 0, build_id = 0;
};
struct RawFunction {
  Function f;
  uint64_t name = 0, system_name = 0, filename = 0;
};

bool ParseValueType(std::string_view data, RawValueType* out, Reader* outer) {
  Reader r(data);
  while (!r.done()) {
    int field, wire;
    if (!r.Tag(&field, &wire)) return outer->Fail(r.error());
    bool ok = field == 1   ? r.Number(wire, &out->type)
              : field == 2 ? r.Number(wire, &out->unit)
                           : r.Skip(wire);
    if (!ok) return outer->Fail("value type: " + r.error());
  }
  return true;
}

bool ParseLabel(std::string_view data, RawLabel* out, Reader* outer) {
  Reader r(data);
  while (!r.done()) {
    int field, wire;
    if (!r.Tag(&field, &wire)) return outer->Fail(r.error());
    bool ok;
    switch (field) {
      case 1:
        ok = r.Number(wire, &out->key);
        break;
      case 2:
        ok = r.Number(wire, &out->str);
        break;
      case 3:
        ok = r.Number(wire, &out->num);
        break;
      case 4:
        ok = r.Number(wire, &out->num_unit);
        break;
      default:
        ok = r.Skip(wire);
    }
    if (!ok) return outer->Fail("label: " + r.error());
  }
  return true;
}

bool ParseSample(std::string_view data, RawSample* out, Reader* outer) {
  Reader r(data);
  while (!r.done()) {
    int field, wire;
    if (!r.Tag(&field, &wire)) return outer->Fail(r.error());
    bool ok;
    std::string_view s;
    switch (field) {
      case 1:
        ok = r.Numbers(wire, &out->locations);
        break;
      case 2:
        ok = r.Numbers(wire, &out->values);
        break;
      case 3:
        ok = r.Message(wire, &s);
        if (ok) {
          out->labels.emplace_back();
          if (!ParseLabel(s, &out->labels.back(), outer)) return false;
        }
        break;
      default:
        ok = r.Skip(wire);
    }
    if (!ok) return outer->Fail("sample: " + r.error());
  }
  return true;
}

bool ParseMapping(std::string_view data, RawMapping* out, Reader* outer) {
  Reader r(data);
  while (!r.done()) {
    int field, wire;
    if (!r.Tag(&field, &wire)) return outer->Fail(r.error());
    uint64_t v = 0;
    bool ok = field >= 1 && field <= 10 ? r.Number(wire, &v) : r.Skip(wire);
    if (!ok) return outer->Fail("mapping: " + r.error());
    Mapping& m = out->m;
    switch (field) {
      case 1:
        m.id = v;
        break;
      case 2:
        m.memory_start = v;
        break;
      case 3:
        m.memory_limit = v;
        break;
      case 4:
        m.file_offset = v;
        break;
      case 5:
        out->filename = v;
        break;
      case 6:
        out->build_id = v;
        break;
      case 7:
        m.has_functions = v != 0;
        break;
      case 8:
        m.has_filenames = v != 0;
        break;
      case 9:
        m.has_line_numbers = v != 0;
        break;
      case 10:
        m.has_inline_frames = v != 0;
        break;
      default:
        break;
    }
  }
  return true;
}

bool ParseLocation(std::string_view data, Location* out, Reader* outer) {
  Reader r(data);
  while (!r.done()) {
    int field, wire;
    if (!r.Tag(&field, &wire)) return outer->Fail(r.error());
    bool ok;
    std::string_view s;
    uint64_t v = 0;
    switch (field) {
      case 1:
        ok = r.Number(wire, &out->id);
        break;
      case 2:
        ok = r.Number(wire, &out->mapping_id);
        break;
      case 3:
        ok = r.Number(wire, &out->address);
        break;
      case 4: {
        ok = r.Message(wire, &s);
        if (!ok) break;
        Line line;
        Reader lr(s);
        while (!lr.done()) {
          int f2, w2;
          if (!lr.Tag(&f2, &w2)) return outer->Fail("line: " + lr.error());
          uint64_t x = 0;
          bool ok2 = f2 == 1 || f2 == 2 ? lr.Number(w2, &x) : lr.Skip(w2);
          if (!ok2) return outer->Fail("line: " + lr.error());
          if (f2 == 1) line.function_id = x;
          if (f2 == 2) line.line = static_cast<int64_t>(x);
        }
        out->lines.push_back(line);
        break;
      }
      case 5:
        ok = r.Number(wire, &v);
        out->is_folded = v != 0;
        break;
      default:
        ok = r.Skip(wire);
    }
    if (!ok) return outer->Fail("location: " + r.error());
  }
  return true;
}

bool ParseFunction(std::string_view data, RawFunction* out, Reader* outer) {
  Reader r(data);
  while (!r.done()) {
    int field, wire;
    if (!r.Tag(&field, &wire)) return outer->Fail(r.error());
    uint64_t v = 0;
    bool ok = field >= 1 && field <= 5 ? r.Number(wire, &v) : r.Skip(wire);
    if (!ok) return outer->Fail("function: " + r.error());
    switch (field) {
      case 1:
        out->f.id = v;
        break;
      case 2:
        out->name = v;
        break;
      case 3:
        out->system_name = v;
        break;
      case 4:
        out->filename = v;
        break;
      case 5:
        out->f.start_line = static_cast<int64_t>(v);
        break;
      default:
        break;
    }
  }
  return true;
}

}  // namespace

Status DecodeProfile(std::string_view data, Profile* out) {
  *out = Profile();
  Reader r(data);
  std::vector<std::string_view> strings;
  std::vector<RawValueType> sample_types;
  std::vector<RawSample> samples;
  std::vector<RawMapping> mappings;
  std::vector<RawFunction> functions;
  std::vector<uint64_t> comments;
  RawValueType period_type;
  uint64_t drop = 0, keep = 0, default_type = 0, v = 0;
  auto fail = [&](const std::string& what) {
    return Status::InvalidArgument("corrupt profile: " + what);
  };
  while (!r.done()) {
    int field, wire;
    if (!r.Tag(&field, &wire)) return fail(r.error());
    std::string_view s;
    bool ok = true;
    switch (field) {
      case 1:
        ok = r.Message(wire, &s) &&
             ParseValueType(s, &sample_types.emplace_back(), &r);
        break;
      case 2:
        ok = r.Message(wire, &s) && ParseSample(s, &samples.emplace_back(), &r);
        break;
      case 3:
        ok = r.Message(wire, &s) &&
             ParseMapping(s, &mappings.emplace_back(), &r);
        break;
      case 4:
        ok = r.Message(wire, &s) &&
             ParseLocation(s, &out->locations.emplace_back(), &r);
        break;
      case 5:
        ok = r.Message(wire, &s) &&
             ParseFunction(s, &functions.emplace_back(), &r);
        break;
      case 6:
        ok = r.Message(wire, &s);
        strings.push_back(s);
        break;
      case 7:
        ok = r.Number(wire, &drop);
        break;
      case 8:
        ok = r.Number(wire, &keep);
        break;
      case 9:
        ok = r.Number(wire, &v);
        out->time_nanos = static_cast<int64_t>(v);
        break;
      case 10:
        ok = r.Number(wire, &v);
        out->duration_nanos = static_cast<int64_t>(v);
        break;
      case 11:
        ok = r.Message(wire, &s) && ParseValueType(s, &period_type, &r);
        break;
      case 12:
        ok = r.Number(wire, &v);
        out->period = static_cast<int64_t>(v);
        break;
      case 13:
        ok = r.Numbers(wire, &comments);
        break;
      case 14:
        ok = r.Number(wire, &default_type);
        break;
      default:
        ok = r.Skip(wire);
    }
    if (!ok) return fail(r.error());
  }
  if (strings.empty()) {
    strings.push_back("");  // a profile with no strings at all
  } else if (!strings[0].empty()) {
    return fail("string table must start with the empty string");
  }
  bool bad_index = false;
  auto str = [&](uint64_t i) -> std::string {
    if (i >= strings.size()) {
      bad_index = true;
      return {};
    }
    return std::string(strings[i]);
  };
  for (const RawValueType& t : sample_types) {
    out->sample_types.push_back({str(t.type), str(t.unit)});
  }
  out->period_type = {str(period_type.type), str(period_type.unit)};
  out->drop_frames = str(drop);
  out->keep_frames = str(keep);
  out->default_sample_type = str(default_type);
  for (uint64_t c : comments) out->comments.push_back(str(c));
  for (RawMapping& m : mappings) {
    m.m.filename = str(m.filename);
    m.m.build_id = str(m.build_id);
    out->mappings.push_back(std::move(m.m));
  }
  for (RawFunction& f : functions) {
    f.f.name = str(f.name);
    f.f.system_name = str(f.system_name);
    f.f.filename = str(f.filename);
    out->functions.push_back(std::move(f.f));
  }
  if (bad_index) return fail("string index out of range");

  // References must resolve: samples to locations, lines to functions.
  std::unordered_map<uint64_t, bool> location_ids, function_ids, mapping_ids;
  for (const Function& f : out->functions) function_ids[f.id] = true;
  for (const Mapping& m : out->mappings) mapping_ids[m.id] = true;
  for (const Location& l : out->locations) {
    if (l.id == 0) return fail("location with id 0");
    location_ids[l.id] = true;
    if (l.mapping_id != 0 && !mapping_ids.count(l.mapping_id)) {
      return fail("location " + std::to_string(l.id) +
                  " names unknown mapping " + std::to_string(l.mapping_id));
    }
    for (const Line& line : l.lines) {
      if (line.function_id != 0 && !function_ids.count(line.function_id)) {
        return fail("location " + std::to_string(l.id) +
                    " names unknown function " +
                    std::to_string(line.function_id));
      }
    }
  }
  for (RawSample& s : samples) {
    Sample sample;
    for (uint64_t id : s.locations) {
      if (!location_ids.count(id)) {
        return fail("sample names unknown location " + std::to_string(id));
      }
    }
    if (s.values.size() != out->sample_types.size()) {
      return fail("sample has " + std::to_string(s.values.size()) +
                  " values for " + std::to_string(out->sample_types.size()) +
                  " sample types");
    }
    sample.location_ids = std::move(s.locations);
    for (uint64_t x : s.values)
      sample.values.push_back(static_cast<int64_t>(x));
    for (const RawLabel& l : s.labels) {
      sample.labels.push_back({str(l.key), str(l.str),
                               static_cast<int64_t>(l.num), str(l.num_unit)});
    }
    if (bad_index) return fail("string index out of range");
    out->samples.push_back(std::move(sample));
  }
  return Status::Ok();
}

Status ParseProfile(std::string_view data, Profile* out) {
  if (data.size() >= 2 && static_cast<uint8_t>(data[0]) == 0x1F &&
      static_cast<uint8_t>(data[1]) == 0x8B) {
    std::string raw;
    if (Status s = Gunzip(data, &raw); !s.ok()) return s;
    return DecodeProfile(raw, out);
  }
  return DecodeProfile(data, out);
}

Status ReadProfileFile(const std::string& path, Profile* out) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return Status::NotFound("cannot open " + path);
  std::string data((std::istreambuf_iterator<char>(in)),
                   std::istreambuf_iterator<char>());
  if (Status s = ParseProfile(data, out); !s.ok()) {
    return Status(s.code(), path + ": " + s.message());
  }
  return Status::Ok();
}

Status WriteProfileFile(const Profile& profile, const std::string& path) {
  std::string gz;
  if (Status s = Gzip(EncodeProfile(profile), &gz); !s.ok()) return s;
  return WriteFileAtomically(path, gz);
}

}  // namespace memmon::profile
