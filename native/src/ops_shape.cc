// Views, joins, splits and indexing.
#include "common.h"

namespace rt {
namespace {

Napi::Value reshape(Args& a) { return wrap(a.env(), a.tensor(0).reshape(a.ints(1))); }
Napi::Value view(Args& a) { return wrap(a.env(), a.tensor(0).view(a.ints(1))); }
Napi::Value permute(Args& a) { return wrap(a.env(), a.tensor(0).permute(a.ints(1))); }
Napi::Value transpose(Args& a) { return wrap(a.env(), a.tensor(0).transpose(a.integer(1), a.integer(2))); }
Napi::Value flatten(Args& a) { return wrap(a.env(), a.tensor(0).flatten(a.integer(1, 0), a.integer(2, -1))); }
Napi::Value squeeze(Args& a) {
  if (!a.has(1)) return wrap(a.env(), a.tensor(0).squeeze());
  return wrap(a.env(), a.tensor(0).squeeze(a.integer(1)));
}
Napi::Value unsqueeze(Args& a) { return wrap(a.env(), a.tensor(0).unsqueeze(a.integer(1))); }
Napi::Value expand(Args& a) { return wrap(a.env(), a.tensor(0).expand(a.ints(1))); }
Napi::Value repeat(Args& a) { return wrap(a.env(), a.tensor(0).repeat(a.ints(1))); }
Napi::Value repeatInterleave(Args& a) {
  return wrap(a.env(), a.tensor(0).repeat_interleave(a.integer(1), a.optInteger(2)));
}
Napi::Value cat(Args& a) { return wrap(a.env(), at::cat(a.tensors(0), a.integer(1, 0))); }
Napi::Value stack(Args& a) { return wrap(a.env(), at::stack(a.tensors(0), a.integer(1, 0))); }
// split(x, sizeOrSizes, dim): a number gives equal chunks of that size
Napi::Value split(Args& a) {
  int64_t dim = a.integer(2, 0);
  if (a.isNumber(1)) return wrapAll(a.env(), a.tensor(0).split(a.integer(1), dim));
  return wrapAll(a.env(), a.tensor(0).split_with_sizes(a.ints(1), dim));
}
Napi::Value chunk(Args& a) { return wrapAll(a.env(), a.tensor(0).chunk(a.integer(1), a.integer(2, 0))); }
Napi::Value narrow(Args& a) { return wrap(a.env(), a.tensor(0).narrow(a.integer(1), a.integer(2), a.integer(3))); }
// slice(x, dim, start?, end?, step = 1), Python's x[..., start:end:step]
Napi::Value slice(Args& a) {
  return wrap(a.env(), a.tensor(0).slice(a.integer(1), a.optInteger(2), a.optInteger(3), a.integer(4, 1)));
}
Napi::Value select(Args& a) { return wrap(a.env(), a.tensor(0).select(a.integer(1), a.integer(2))); }
Napi::Value indexSelect(Args& a) { return wrap(a.env(), at::index_select(a.tensor(0), a.integer(1), a.tensor(2))); }
Napi::Value gather(Args& a) { return wrap(a.env(), at::gather(a.tensor(0), a.integer(1), a.tensor(2))); }
// scatter(x, dim, index, src | value, reduce?: 'add' | 'multiply')
Napi::Value scatter(Args& a) {
  const at::Tensor& x = a.tensor(0);
  int64_t dim = a.integer(1);
  const at::Tensor& index = a.tensor(2);
  bool srcIsTensor = a.isTensor(3);
  if (a.has(4)) {
    std::string reduce = a.string(4);
    return srcIsTensor ? wrap(a.env(), at::scatter(x, dim, index, a.tensor(3), reduce))
                       : wrap(a.env(), at::scatter(x, dim, index, a.scalar(3), reduce));
  }
  return srcIsTensor ? wrap(a.env(), at::scatter(x, dim, index, a.tensor(3)))
                     : wrap(a.env(), at::scatter(x, dim, index, a.scalar(3)));
}
Napi::Value scatterAdd(Args& a) { return wrap(a.env(), at::scatter_add(a.tensor(0), a.integer(1), a.tensor(2), a.tensor(3))); }
Napi::Value maskedFill(Args& a) {
  if (a.isTensor(2)) return wrap(a.env(), at::masked_fill(a.tensor(0), a.tensor(1), a.tensor(2)));
  return wrap(a.env(), at::masked_fill(a.tensor(0), a.tensor(1), a.scalar(2)));
}
Napi::Value maskedSelect(Args& a) { return wrap(a.env(), at::masked_select(a.tensor(0), a.tensor(1))); }
Napi::Value nonzero(Args& a) { return wrap(a.env(), at::nonzero(a.tensor(0))); }
Napi::Value tril(Args& a) { return wrap(a.env(), at::tril(a.tensor(0), a.integer(1, 0))); }
Napi::Value triu(Args& a) { return wrap(a.env(), at::triu(a.tensor(0), a.integer(1, 0))); }
Napi::Value flip(Args& a) { return wrap(a.env(), at::flip(a.tensor(0), a.ints(1))); }
Napi::Value roll(Args& a) { return wrap(a.env(), at::roll(a.tensor(0), a.ints(1), a.has(2) ? a.ints(2) : std::vector<int64_t>{})); }

// Advanced indexing, x[i0, i1, ...] with tensors (null = a full slice).
c10::List<c10::optional<at::Tensor>> indexList(Args& a, size_t i) {
  if (!a.has(i) || !a.raw(i).IsArray()) a.typeError(i, "an array of tensors or nulls");
  auto array = a.raw(i).As<Napi::Array>();
  c10::List<c10::optional<at::Tensor>> out;
  for (uint32_t k = 0; k < array.Length(); k++) {
    Napi::Value v = array.Get(k);
    if (v.IsNull() || v.IsUndefined()) {
      out.push_back(c10::nullopt);
    } else if (v.IsExternal()) {
      out.push_back(requireTensor(a.env(), v, "index " + std::to_string(k)));
    } else {
      a.typeError(i, "an array of tensors or nulls");
    }
  }
  return out;
}
Napi::Value index(Args& a) { return wrap(a.env(), at::index(a.tensor(0), indexList(a, 1))); }
// indexPut_(x, indices, values, accumulate = false), in place
Napi::Value indexPut_(Args& a) {
  a.tensor(0).index_put_(indexList(a, 1), a.tensor(2), a.boolean(3));
  return a.env().Undefined();
}

}  // namespace

void registerOpsShape(Napi::Env env, Napi::Object exports) {
  registerOps(env, exports, {
      {"reshape", reshape}, {"view", view}, {"permute", permute}, {"transpose", transpose},
      {"flatten", flatten}, {"squeeze", squeeze}, {"unsqueeze", unsqueeze}, {"expand", expand},
      {"repeat", repeat}, {"repeatInterleave", repeatInterleave}, {"cat", cat}, {"stack", stack},
      {"split", split}, {"chunk", chunk}, {"narrow", narrow}, {"slice", slice}, {"select", select},
      {"indexSelect", indexSelect}, {"gather", gather}, {"scatter", scatter}, {"scatterAdd", scatterAdd},
      {"maskedFill", maskedFill}, {"maskedSelect", maskedSelect}, {"nonzero", nonzero},
      {"tril", tril}, {"triu", triu}, {"flip", flip}, {"roll", roll}, {"index", index}, {"indexPut_", indexPut_},
  });
}

}  // namespace rt
