// Elementwise math, comparisons, reductions, sorting, matrix products and
// the linear algebra the metrics need.
#include "common.h"

namespace rt {
namespace {

Napi::Value undefined(Args& a) { return a.env().Undefined(); }

// An operand that is either a tensor or a JS number/boolean (argument i).
template <class WithTensor, class WithScalar>
Napi::Value binary(Args& a, size_t i, WithTensor withTensor, WithScalar withScalar) {
  if (a.isTensor(i)) return wrap(a.env(), withTensor(a.tensor(0), a.tensor(i)));
  return wrap(a.env(), withScalar(a.tensor(0), a.scalar(i)));
}

#define UNARY(NAME, EXPR)                          \
  Napi::Value NAME(Args& a) {                      \
    const at::Tensor& x = a.tensor(0);             \
    return wrap(a.env(), EXPR);                    \
  }
UNARY(neg, at::neg(x))
UNARY(abs, at::abs(x))
UNARY(exp, at::exp(x))
UNARY(log, at::log(x))
UNARY(log1p, at::log1p(x))
UNARY(expm1, at::expm1(x))
UNARY(sqrt, at::sqrt(x))
UNARY(rsqrt, at::rsqrt(x))
UNARY(sin, at::sin(x))
UNARY(cos, at::cos(x))
UNARY(floor, at::floor(x))
UNARY(ceil, at::ceil(x))
UNARY(round, at::round(x))
UNARY(sign, at::sign(x))
UNARY(reciprocal, at::reciprocal(x))
UNARY(square, at::square(x))
UNARY(erf, at::erf(x))
UNARY(erfinv, at::erfinv(x))
UNARY(isnan, at::isnan(x))
UNARY(isfinite, at::isfinite(x))
UNARY(logicalNot, at::logical_not(x))
#undef UNARY

#define BINARY(NAME, FN)                                                                                   \
  Napi::Value NAME(Args& a) {                                                                              \
    return binary(                                                                                         \
        a, 1, [](const at::Tensor& x, const at::Tensor& y) { return FN(x, y); },                           \
        [](const at::Tensor& x, const at::Scalar& y) { return FN(x, y); });                                \
  }
BINARY(mul, at::mul)
BINARY(pow, at::pow)
BINARY(remainder, at::remainder)
BINARY(eq, at::eq)
BINARY(ne, at::ne)
BINARY(lt, at::lt)
BINARY(le, at::le)
BINARY(gt, at::gt)
BINARY(ge, at::ge)
#undef BINARY

// add(x, y, alpha) = x + alpha·y; sub likewise.
Napi::Value add(Args& a) {
  at::Scalar alpha = a.size() > 2 && a.has(2) ? a.scalar(2) : at::Scalar(1);
  return binary(
      a, 1, [&](const at::Tensor& x, const at::Tensor& y) { return at::add(x, y, alpha); },
      [&](const at::Tensor& x, const at::Scalar& y) { return at::add(x, y, alpha); });
}
Napi::Value sub(Args& a) {
  at::Scalar alpha = a.size() > 2 && a.has(2) ? a.scalar(2) : at::Scalar(1);
  return binary(
      a, 1, [&](const at::Tensor& x, const at::Tensor& y) { return at::sub(x, y, alpha); },
      [&](const at::Tensor& x, const at::Scalar& y) { return at::sub(x, y, alpha); });
}
// div(x, y, roundingMode?: 'trunc' | 'floor')
Napi::Value div(Args& a) {
  c10::optional<c10::string_view> mode;
  std::string modeText;
  if (a.has(2)) {
    modeText = a.string(2);
    mode = modeText;
  }
  return binary(
      a, 1, [&](const at::Tensor& x, const at::Tensor& y) { return at::div(x, y, mode); },
      [&](const at::Tensor& x, const at::Scalar& y) { return at::div(x, y, mode); });
}
// A number raised to a tensor: powScalar(base, exponent)
Napi::Value powScalar(Args& a) { return wrap(a.env(), at::pow(a.scalar(0), a.tensor(1))); }
Napi::Value minimum(Args& a) { return wrap(a.env(), at::minimum(a.tensor(0), a.tensor(1))); }
Napi::Value maximum(Args& a) { return wrap(a.env(), at::maximum(a.tensor(0), a.tensor(1))); }
Napi::Value logicalAnd(Args& a) { return wrap(a.env(), at::logical_and(a.tensor(0), a.tensor(1))); }
Napi::Value logicalOr(Args& a) { return wrap(a.env(), at::logical_or(a.tensor(0), a.tensor(1))); }
Napi::Value logicalXor(Args& a) { return wrap(a.env(), at::logical_xor(a.tensor(0), a.tensor(1))); }
// clamp(x, min?, max?) with numbers or tensors as bounds
Napi::Value clamp(Args& a) {
  bool tensorBounds = (a.has(1) && a.isTensor(1)) || (a.has(2) && a.isTensor(2));
  if (tensorBounds) return wrap(a.env(), at::clamp(a.tensor(0), a.optTensor(1), a.optTensor(2)));
  return wrap(a.env(), at::clamp(a.tensor(0), a.optScalar(1), a.optScalar(2)));
}
// where(condition, x, y): x and y may be numbers
Napi::Value where(Args& a) {
  const at::Tensor& cond = a.tensor(0);
  bool xt = a.isTensor(1), yt = a.isTensor(2);
  if (xt && yt) return wrap(a.env(), at::where(cond, a.tensor(1), a.tensor(2)));
  if (xt) return wrap(a.env(), at::where(cond, a.tensor(1), a.scalar(2)));
  if (yt) return wrap(a.env(), at::where(cond, a.scalar(1), a.tensor(2)));
  return wrap(a.env(), at::where(cond, a.scalar(1), a.scalar(2)));
}

// ---- in place, for optimizers and EMA ----------------------------------------

Napi::Value add_(Args& a) {
  at::Scalar alpha = a.size() > 2 && a.has(2) ? a.scalar(2) : at::Scalar(1);
  if (a.isTensor(1)) a.tensor(0).add_(a.tensor(1), alpha);
  else a.tensor(0).add_(a.scalar(1), alpha);
  return undefined(a);
}
Napi::Value mul_(Args& a) {
  if (a.isTensor(1)) a.tensor(0).mul_(a.tensor(1));
  else a.tensor(0).mul_(a.scalar(1));
  return undefined(a);
}
Napi::Value div_(Args& a) {
  if (a.isTensor(1)) a.tensor(0).div_(a.tensor(1));
  else a.tensor(0).div_(a.scalar(1));
  return undefined(a);
}
Napi::Value addcmul_(Args& a) {
  a.tensor(0).addcmul_(a.tensor(1), a.tensor(2), a.has(3) ? a.scalar(3) : at::Scalar(1));
  return undefined(a);
}
Napi::Value addcdiv_(Args& a) {
  a.tensor(0).addcdiv_(a.tensor(1), a.tensor(2), a.has(3) ? a.scalar(3) : at::Scalar(1));
  return undefined(a);
}
Napi::Value lerp_(Args& a) {
  if (a.isTensor(2)) a.tensor(0).lerp_(a.tensor(1), a.tensor(2));
  else a.tensor(0).lerp_(a.tensor(1), a.scalar(2));
  return undefined(a);
}
Napi::Value sqrt_(Args& a) {
  a.tensor(0).sqrt_();
  return undefined(a);
}
Napi::Value clamp_(Args& a) {
  a.tensor(0).clamp_(a.optScalar(1), a.optScalar(2));
  return undefined(a);
}

// ---- reductions -------------------------------------------------------------
// Convention: (x, dims?, keepdim?) where absent dims reduce over everything.

// The dims to reduce: the given ones, or all of them (so that keepdim with
// no dims keeps every dim as size 1, as in PyTorch).
std::vector<int64_t> dimsOrAll(Args& a, size_t i) {
  if (a.has(i)) return a.ints(i);
  std::vector<int64_t> all(a.tensor(0).dim());
  for (size_t d = 0; d < all.size(); d++) all[d] = static_cast<int64_t>(d);
  return all;
}
// A single-dim reduction (prod, all, any) needs a dim for keepdim.
void needDimForKeepdim(Args& a, const char* op) {
  if (!a.has(1) && a.boolean(2)) throw Napi::Error::New(a.env(), std::string(op) + ": keepdim needs a dim");
}

Napi::Value sum(Args& a) {
  if (!a.has(1) && !a.boolean(2)) return wrap(a.env(), at::sum(a.tensor(0), a.optDtype(3)));
  return wrap(a.env(), at::sum(a.tensor(0), dimsOrAll(a, 1), a.boolean(2), a.optDtype(3)));
}
Napi::Value mean(Args& a) {
  if (!a.has(1) && !a.boolean(2)) return wrap(a.env(), at::mean(a.tensor(0), a.optDtype(3)));
  return wrap(a.env(), at::mean(a.tensor(0), dimsOrAll(a, 1), a.boolean(2), a.optDtype(3)));
}
Napi::Value prod(Args& a) {
  needDimForKeepdim(a, "prod");
  if (!a.has(1)) return wrap(a.env(), at::prod(a.tensor(0), a.optDtype(3)));
  return wrap(a.env(), at::prod(a.tensor(0), a.integer(1), a.boolean(2), a.optDtype(3)));
}
// var(x, dims?, keepdim?, unbiased = true); std likewise
Napi::Value var(Args& a) {
  bool unbiased = a.boolean(3, true);
  if (!a.has(1) && !a.boolean(2)) return wrap(a.env(), at::var(a.tensor(0), unbiased));
  return wrap(a.env(), at::var(a.tensor(0), at::IntArrayRef(dimsOrAll(a, 1)), unbiased, a.boolean(2)));
}
Napi::Value std_(Args& a) {
  bool unbiased = a.boolean(3, true);
  if (!a.has(1) && !a.boolean(2)) return wrap(a.env(), at::std(a.tensor(0), unbiased));
  return wrap(a.env(), at::std(a.tensor(0), at::IntArrayRef(dimsOrAll(a, 1)), unbiased, a.boolean(2)));
}
// min/max: over everything → one tensor; along a dim → [values, indices]
Napi::Value min(Args& a) {
  if (!a.has(1)) return wrap(a.env(), at::min(a.tensor(0)));
  auto r = at::min(a.tensor(0), a.integer(1), a.boolean(2));
  return wrapAll(a.env(), {std::get<0>(r), std::get<1>(r)});
}
Napi::Value max(Args& a) {
  if (!a.has(1)) return wrap(a.env(), at::max(a.tensor(0)));
  auto r = at::max(a.tensor(0), a.integer(1), a.boolean(2));
  return wrapAll(a.env(), {std::get<0>(r), std::get<1>(r)});
}
Napi::Value amin(Args& a) { return wrap(a.env(), at::amin(a.tensor(0), a.ints(1), a.boolean(2))); }
Napi::Value amax(Args& a) { return wrap(a.env(), at::amax(a.tensor(0), a.ints(1), a.boolean(2))); }
Napi::Value argmin(Args& a) { return wrap(a.env(), at::argmin(a.tensor(0), a.optInteger(1), a.boolean(2))); }
Napi::Value argmax(Args& a) { return wrap(a.env(), at::argmax(a.tensor(0), a.optInteger(1), a.boolean(2))); }
Napi::Value logsumexp(Args& a) { return wrap(a.env(), at::logsumexp(a.tensor(0), a.ints(1), a.boolean(2))); }
// norm(x, p, dims?, keepdim?): vector p-norm (p may be ±Infinity)
Napi::Value norm(Args& a) {
  at::Scalar p(a.number(1));
  bool keepdim = a.boolean(3);
  if (!a.has(2) && !keepdim) return wrap(a.env(), at::linalg_vector_norm(a.tensor(0), p, c10::nullopt, false, c10::nullopt));
  std::vector<int64_t> dims = a.has(2) ? a.ints(2) : std::vector<int64_t>{};
  if (!a.has(2)) for (int64_t d = 0; d < a.tensor(0).dim(); d++) dims.push_back(d);
  return wrap(a.env(), at::linalg_vector_norm(a.tensor(0), p, at::IntArrayRef(dims), keepdim, c10::nullopt));
}
Napi::Value all(Args& a) {
  needDimForKeepdim(a, "all");
  if (!a.has(1)) return wrap(a.env(), at::all(a.tensor(0)));
  return wrap(a.env(), at::all(a.tensor(0), a.integer(1), a.boolean(2)));
}
Napi::Value any(Args& a) {
  needDimForKeepdim(a, "any");
  if (!a.has(1)) return wrap(a.env(), at::any(a.tensor(0)));
  return wrap(a.env(), at::any(a.tensor(0), a.integer(1), a.boolean(2)));
}
Napi::Value cumsum(Args& a) { return wrap(a.env(), at::cumsum(a.tensor(0), a.integer(1), a.optDtype(2))); }

// ---- sorting ---------------------------------------------------------------------

// topk(x, k, dim = -1, largest = true, sorted = true) → [values, indices]
Napi::Value topk(Args& a) {
  auto r = at::topk(a.tensor(0), a.integer(1), a.integer(2, -1), a.boolean(3, true), a.boolean(4, true));
  return wrapAll(a.env(), {std::get<0>(r), std::get<1>(r)});
}
// sort(x, dim = -1, descending = false, stable = false) → [values, indices]
Napi::Value sort(Args& a) {
  auto r = at::sort(a.tensor(0), c10::optional<bool>(a.boolean(3)), a.integer(1, -1), a.boolean(2));
  return wrapAll(a.env(), {std::get<0>(r), std::get<1>(r)});
}
Napi::Value argsort(Args& a) { return wrap(a.env(), at::argsort(a.tensor(0), a.integer(1, -1), a.boolean(2))); }

// ---- products ---------------------------------------------------------------------

Napi::Value matmul(Args& a) { return wrap(a.env(), at::matmul(a.tensor(0), a.tensor(1))); }
Napi::Value bmm(Args& a) { return wrap(a.env(), at::bmm(a.tensor(0), a.tensor(1))); }
Napi::Value einsum(Args& a) { return wrap(a.env(), at::einsum(a.string(0), a.tensors(1))); }
Napi::Value outer(Args& a) { return wrap(a.env(), at::outer(a.tensor(0), a.tensor(1))); }
Napi::Value cdist(Args& a) { return wrap(a.env(), at::cdist(a.tensor(0), a.tensor(1), a.number(2, 2.0))); }

// ---- linear algebra ------------------------------------------------------------

Napi::Value eigh(Args& a) {
  std::string uplo = a.has(1) ? a.string(1) : "L";
  auto r = at::linalg_eigh(a.tensor(0), uplo);
  return wrapAll(a.env(), {std::get<0>(r), std::get<1>(r)});
}
Napi::Value svd(Args& a) {
  auto r = at::linalg_svd(a.tensor(0), a.boolean(1, true));
  return wrapAll(a.env(), {std::get<0>(r), std::get<1>(r), std::get<2>(r)});
}
Napi::Value cholesky(Args& a) { return wrap(a.env(), at::linalg_cholesky(a.tensor(0), a.boolean(1))); }
Napi::Value inverse(Args& a) { return wrap(a.env(), at::linalg_inv(a.tensor(0))); }
Napi::Value eigvals(Args& a) { return wrap(a.env(), at::linalg_eigvals(a.tensor(0))); }
Napi::Value real(Args& a) { return wrap(a.env(), at::real(a.tensor(0))); }

}  // namespace

void registerOpsMath(Napi::Env env, Napi::Object exports) {
  registerOps(env, exports, {
      {"neg", neg}, {"abs", abs}, {"exp", exp}, {"log", log}, {"log1p", log1p}, {"expm1", expm1},
      {"sqrt", sqrt}, {"rsqrt", rsqrt}, {"sin", sin}, {"cos", cos}, {"floor", floor}, {"ceil", ceil},
      {"round", round}, {"sign", sign}, {"reciprocal", reciprocal}, {"square", square}, {"erf", erf}, {"erfinv", erfinv},
      {"isnan", isnan}, {"isfinite", isfinite}, {"logicalNot", logicalNot},
      {"add", add}, {"sub", sub}, {"mul", mul}, {"div", div}, {"pow", pow}, {"powScalar", powScalar},
      {"remainder", remainder}, {"minimum", minimum}, {"maximum", maximum},
      {"eq", eq}, {"ne", ne}, {"lt", lt}, {"le", le}, {"gt", gt}, {"ge", ge},
      {"logicalAnd", logicalAnd}, {"logicalOr", logicalOr}, {"logicalXor", logicalXor},
      {"clamp", clamp}, {"where", where},
      {"add_", add_}, {"mul_", mul_}, {"div_", div_}, {"addcmul_", addcmul_}, {"addcdiv_", addcdiv_},
      {"lerp_", lerp_}, {"sqrt_", sqrt_}, {"clamp_", clamp_},
      {"sum", sum}, {"mean", mean}, {"prod", prod}, {"var", var}, {"std", std_}, {"min", min}, {"max", max},
      {"amin", amin}, {"amax", amax}, {"argmin", argmin}, {"argmax", argmax}, {"logsumexp", logsumexp},
      {"norm", norm}, {"all", all}, {"any", any}, {"cumsum", cumsum},
      {"topk", topk}, {"sort", sort}, {"argsort", argsort},
      {"matmul", matmul}, {"bmm", bmm}, {"einsum", einsum}, {"outer", outer}, {"cdist", cdist},
      {"eigh", eigh}, {"svd", svd}, {"cholesky", cholesky}, {"inverse", inverse}, {"eigvals", eigvals},
      {"real", real},
  });
}

}  // namespace rt
