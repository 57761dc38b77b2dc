// Neural-network functions (PyTorch's torch.nn.functional), generic only.
#include "common.h"

#include <cmath>

namespace rt {
namespace {

int64_t reduction(Args& a, size_t i) {
  std::string r = a.has(i) ? a.string(i) : "mean";
  if (r == "mean") return at::Reduction::Mean;
  if (r == "sum") return at::Reduction::Sum;
  if (r == "none") return at::Reduction::None;
  throw Napi::RangeError::New(a.env(), "reduction must be 'mean', 'sum' or 'none', got '" + r + "'");
}

// A pair of ints from a number or a 2-array (kernel sizes, strides, ...).
std::vector<int64_t> pair(Args& a, size_t i, int64_t fallback) {
  if (!a.has(i)) return {fallback, fallback};
  auto v = a.ints(i);
  if (v.size() == 1) return {v[0], v[0]};
  return v;
}

Napi::Value linear(Args& a) { return wrap(a.env(), at::linear(a.tensor(0), a.tensor(1), a.optTensor(2))); }
// conv2d(x, w, b?, stride, padding, dilation, groups)
Napi::Value conv2d(Args& a) {
  return wrap(a.env(), at::conv2d(a.tensor(0), a.tensor(1), a.optTensor(2), pair(a, 3, 1), pair(a, 4, 0),
                                  pair(a, 5, 1), a.integer(6, 1)));
}
// convTranspose2d(x, w, b?, stride, padding, outputPadding, groups, dilation)
Napi::Value convTranspose2d(Args& a) {
  return wrap(a.env(), at::conv_transpose2d(a.tensor(0), a.tensor(1), a.optTensor(2), pair(a, 3, 1), pair(a, 4, 0),
                                            pair(a, 5, 0), a.integer(6, 1), pair(a, 7, 1)));
}
// Normalises in the affine weights' dtype when the input has another: under
// CPU autocast (libtorch 1.13) a convolution hands a bfloat16 input to float32
// weights, which group_norm refuses; CUDA autocast runs group_norm in float32
// for the same reason (range), and so does this.
Napi::Value groupNorm(Args& a) {
  at::Tensor x = a.tensor(0);
  const auto weight = a.optTensor(2);
  if (weight && weight->scalar_type() != x.scalar_type()) x = x.to(weight->scalar_type());
  return wrap(a.env(), at::group_norm(x, a.integer(1), weight, a.optTensor(3), a.number(4, 1e-5)));
}
Napi::Value layerNorm(Args& a) {
  return wrap(a.env(), at::layer_norm(a.tensor(0), a.ints(1), a.optTensor(2), a.optTensor(3), a.number(4, 1e-5)));
}
// batchNorm(x, runningMean?, runningVar?, weight?, bias?, training, momentum, eps)
Napi::Value batchNorm(Args& a) {
  return wrap(a.env(), at::batch_norm(a.tensor(0), a.optTensor(3), a.optTensor(4), a.optTensor(1), a.optTensor(2),
                                      a.boolean(5), a.number(6, 0.1), a.number(7, 1e-5), true));
}
Napi::Value embedding(Args& a) {
  return wrap(a.env(), at::embedding(a.tensor(0), a.tensor(1), a.integer(2, -1)));
}
Napi::Value dropout(Args& a) { return wrap(a.env(), at::dropout(a.tensor(0), a.number(1), a.boolean(2))); }
Napi::Value relu(Args& a) { return wrap(a.env(), at::relu(a.tensor(0))); }
Napi::Value leakyRelu(Args& a) { return wrap(a.env(), at::leaky_relu(a.tensor(0), a.number(1, 0.01))); }
Napi::Value gelu(Args& a) { return wrap(a.env(), at::gelu(a.tensor(0), a.has(1) ? a.string(1) : "none")); }
Napi::Value silu(Args& a) { return wrap(a.env(), at::silu(a.tensor(0))); }
Napi::Value sigmoid(Args& a) { return wrap(a.env(), at::sigmoid(a.tensor(0))); }
Napi::Value tanh(Args& a) { return wrap(a.env(), at::tanh(a.tensor(0))); }
Napi::Value softplus(Args& a) { return wrap(a.env(), at::softplus(a.tensor(0), a.number(1, 1.0), a.number(2, 20.0))); }
Napi::Value softmax(Args& a) { return wrap(a.env(), at::softmax(a.tensor(0), a.integer(1), a.optDtype(2))); }
Napi::Value logSoftmax(Args& a) { return wrap(a.env(), at::log_softmax(a.tensor(0), a.integer(1), a.optDtype(2))); }
Napi::Value oneHot(Args& a) { return wrap(a.env(), at::one_hot(a.tensor(0), a.integer(1, -1))); }

// crossEntropy(logits, target, weight?, reduction, ignoreIndex, labelSmoothing)
Napi::Value crossEntropy(Args& a) {
  return wrap(a.env(), at::cross_entropy_loss(a.tensor(0), a.tensor(1), a.optTensor(2), reduction(a, 3),
                                              a.integer(4, -100), a.number(5, 0.0)));
}
Napi::Value mseLoss(Args& a) { return wrap(a.env(), at::mse_loss(a.tensor(0), a.tensor(1), reduction(a, 2))); }
Napi::Value l1Loss(Args& a) { return wrap(a.env(), at::l1_loss(a.tensor(0), a.tensor(1), reduction(a, 2))); }
// bceWithLogits(logits, target, weight?, posWeight?, reduction)
Napi::Value bceWithLogits(Args& a) {
  return wrap(a.env(), at::binary_cross_entropy_with_logits(a.tensor(0), a.tensor(1), a.optTensor(2), a.optTensor(3),
                                                            reduction(a, 4)));
}

// interpolate(x, size?, scale?, mode, alignCorners?, antialias?) on [B, C, H, W]
Napi::Value interpolate(Args& a) {
  const at::Tensor& x = a.tensor(0);
  bool bySize = a.has(1), byScale = a.has(2);
  if (bySize == byScale) throw Napi::Error::New(a.env(), "interpolate needs exactly one of size and scaleFactor");
  std::vector<int64_t> size = bySize ? pair(a, 1, 0) : std::vector<int64_t>{};
  std::vector<double> scale;
  if (byScale) scale = a.isNumber(2) ? std::vector<double>{a.number(2), a.number(2)} : a.doubles(2);
  at::OptionalIntArrayRef outSize = bySize ? at::OptionalIntArrayRef(size) : c10::nullopt;
  c10::optional<at::ArrayRef<double>> scales;
  if (byScale) scales = at::ArrayRef<double>(scale);
  std::string mode = a.string(3);
  bool alignCorners = a.boolean(4);
  bool antialias = a.boolean(5);
  if (mode == "nearest" && alignCorners) {
    throw Napi::Error::New(a.env(), "alignCorners only works with the bilinear and bicubic modes, not nearest");
  }
  if (mode == "nearest") return wrap(a.env(), at::upsample_nearest2d(x, outSize, scales));
  if (mode == "bilinear") {
    return wrap(a.env(), antialias ? at::_upsample_bilinear2d_aa(x, outSize, alignCorners, scales)
                                   : at::upsample_bilinear2d(x, outSize, alignCorners, scales));
  }
  if (mode == "bicubic") {
    return wrap(a.env(), antialias ? at::_upsample_bicubic2d_aa(x, outSize, alignCorners, scales)
                                   : at::upsample_bicubic2d(x, outSize, alignCorners, scales));
  }
  throw Napi::RangeError::New(a.env(), "interpolate mode must be 'nearest', 'bilinear' or 'bicubic', got '" + mode + "'");
}
// avgPool2d(x, kernel, stride?, padding, ceilMode, countIncludePad)
Napi::Value avgPool2d(Args& a) {
  auto kernel = pair(a, 1, 1);
  return wrap(a.env(), at::avg_pool2d(a.tensor(0), kernel, a.has(2) ? pair(a, 2, 1) : kernel, pair(a, 3, 0),
                                      a.boolean(4), a.boolean(5, true)));
}
// maxPool2d(x, kernel, stride?, padding, dilation, ceilMode)
Napi::Value maxPool2d(Args& a) {
  auto kernel = pair(a, 1, 1);
  return wrap(a.env(), at::max_pool2d(a.tensor(0), kernel, a.has(2) ? pair(a, 2, 1) : kernel, pair(a, 3, 0),
                                      pair(a, 4, 1), a.boolean(5)));
}
Napi::Value adaptiveAvgPool2d(Args& a) { return wrap(a.env(), at::adaptive_avg_pool2d(a.tensor(0), pair(a, 1, 1))); }
// pad(x, pads [left, right, top, bottom, ...], mode, value)
Napi::Value pad(Args& a) {
  std::string mode = a.has(2) ? a.string(2) : "constant";
  return wrap(a.env(), at::pad(a.tensor(0), a.ints(1), mode, a.optNumber(3)));
}
Napi::Value pixelShuffle(Args& a) { return wrap(a.env(), at::pixel_shuffle(a.tensor(0), a.integer(1))); }
Napi::Value pixelUnshuffle(Args& a) { return wrap(a.env(), at::pixel_unshuffle(a.tensor(0), a.integer(1))); }

// scaledDotProductAttention(q, k, v, mask?, dropoutP, isCausal, scale?) on
// [..., L, E] queries and [..., S, E] keys. A boolean mask marks the pairs
// that may attend (true = keep), a float mask is added to the scores.
Napi::Value scaledDotProductAttention(Args& a) {
  const at::Tensor& q = a.tensor(0);
  const at::Tensor& k = a.tensor(1);
  const at::Tensor& v = a.tensor(2);
  auto mask = a.optTensor(3);
  double dropoutP = a.number(4, 0.0);
  bool causal = a.boolean(5);
  auto scaleArg = a.optNumber(6);
#if TORCH_VERSION_MAJOR > 2 || (TORCH_VERSION_MAJOR == 2 && TORCH_VERSION_MINOR >= 1)
  return wrap(a.env(), at::scaled_dot_product_attention(q, k, v, mask, dropoutP, causal, scaleArg));
#else
  // libtorch 1.13/2.0: the same math, composed from ATen ops.
  double scale = scaleArg ? *scaleArg : 1.0 / std::sqrt(static_cast<double>(q.size(-1)));
  at::Tensor scores = at::matmul(q, k.transpose(-2, -1)).mul(scale);
  if (causal) {
    auto keep = at::ones({q.size(-2), k.size(-2)}, q.options().dtype(at::kBool)).tril();
    scores = scores.masked_fill(keep.logical_not(), -std::numeric_limits<double>::infinity());
  }
  if (mask) {
    scores = mask->scalar_type() == at::kBool
                 ? scores.masked_fill(mask->logical_not(), -std::numeric_limits<double>::infinity())
                 : scores.add(*mask);
  }
  at::Tensor weights = at::softmax(scores, -1);
  if (dropoutP > 0) weights = at::dropout(weights, dropoutP, true);
  return wrap(a.env(), at::matmul(weights, v));
#endif
}

}  // namespace

void registerNN(Napi::Env env, Napi::Object exports) {
  registerOps(env, exports, {
      {"linear", linear}, {"conv2d", conv2d}, {"convTranspose2d", convTranspose2d}, {"groupNorm", groupNorm},
      {"layerNorm", layerNorm}, {"batchNorm", batchNorm}, {"embedding", embedding}, {"dropout", dropout},
      {"relu", relu}, {"leakyRelu", leakyRelu}, {"gelu", gelu}, {"silu", silu}, {"sigmoid", sigmoid},
      {"tanh", tanh}, {"softplus", softplus}, {"softmax", softmax}, {"logSoftmax", logSoftmax}, {"oneHot", oneHot},
      {"crossEntropy", crossEntropy}, {"mseLoss", mseLoss}, {"l1Loss", l1Loss}, {"bceWithLogits", bceWithLogits},
      {"interpolate", interpolate}, {"avgPool2d", avgPool2d}, {"maxPool2d", maxPool2d},
      {"adaptiveAvgPool2d", adaptiveAvgPool2d}, {"pad", pad}, {"pixelShuffle", pixelShuffle},
      {"pixelUnshuffle", pixelUnshuffle}, {"scaledDotProductAttention", scaledDotProductAttention},
  });
}

}  // namespace rt
