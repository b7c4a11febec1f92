#ifndef DEFERRED_EXAMPLES_MODELS_VIT_H_
#define DEFERRED_EXAMPLES_MODELS_VIT_H_

#include <cstdint>

#include "deferred/nn/module.h"

namespace deferred::examples {

// A Vision Transformer as timm's VisionTransformer builds and initializes it (the default
// weight-init mode, a class token, no register tokens).
struct VitConfig {
  int64_t image_size = 224;
  int64_t patch_size = 16;
  int64_t in_chans = 3;
  int64_t num_classes = 1000;
  int64_t embed_dim = 768;
  int64_t depth = 12;
  int64_t num_heads = 12;
  int64_t mlp_ratio = 4;

  // ViT-B/16.
  static VitConfig VitBase16();
  // A few layers of a few dims: for tests.
  static VitConfig Tiny();

  int64_t num_patches() const {
    return (image_size / patch_size) * (image_size / patch_size);
  }
};

// patch_embed.proj (a Conv2d of kernel and stride patch_size), cls_token [1, 1, embed_dim],
// pos_embed [1, num_patches + 1, embed_dim], blocks.<i>.{norm1, attn.qkv, attn.proj, norm2,
// mlp.fc1, mlp.fc2}, norm, head. Initialized as timm's init_weights does: pos_embed
// (randn * 0.02 at construction) re-drawn by trunc_normal_(std = 0.02), the zero
// cls_token drawn from N(0, 1e-6), every Linear weight trunc_normal_(std = 0.02) with its
// bias zeroed; the patch embedding keeps its Conv2d init. LayerNorms use eps 1e-6.
class Vit : public nn::Module {
 public:
  explicit Vit(const VitConfig& config);
};

}  // namespace deferred::examples

#endif  // DEFERRED_EXAMPLES_MODELS_VIT_H_
