#include "fake_tensor/region.h"

#include <random>
#include <vector>

#include "absl/strings/str_cat.h"
#include "fake_tensor/error.h"
#include "gtest/gtest.h"

namespace deferred {
namespace {

// The base index (per base dim) of view index `index` under `layout`.
Shape BaseIndex(const TensorLayout& layout, const Shape& base_sizes, const Shape& index) {
  int64_t offset = layout.storage_offset;
  for (size_t d = 0; d < index.size(); ++d) offset += index[d] * layout.strides[d];
  Shape out(base_sizes.size());
  const Shape strides = ContiguousStrides(base_sizes);
  for (size_t k = 0; k < base_sizes.size(); ++k) {
    out[k] = offset / strides[k];
    offset -= out[k] * strides[k];
  }
  return out;
}

bool Inside(const Region& r, const Shape& index) {
  for (size_t d = 0; d < index.size(); ++d) {
    if (index[d] < r.start[d] || index[d] >= r.stop[d]) return false;
  }
  return true;
}

// Calls fn(index) for every index of `r`.
template <typename Fn>
void ForEachIndex(const Region& r, Fn fn) {
  if (r.empty()) return;
  Shape index = r.start;
  for (;;) {
    fn(index);
    int64_t d = r.rank() - 1;
    for (; d >= 0; --d) {
      if (++index[d] < r.stop[d]) break;
      index[d] = r.start[d];
    }
    if (d < 0) return;
  }
}

Region RandomRegion(std::mt19937_64& rng, const Shape& sizes) {
  Region r = Region::Full(sizes);
  for (size_t d = 0; d < sizes.size(); ++d) {
    r.start[d] = std::uniform_int_distribution<int64_t>(0, sizes[d] - 1)(rng);
    r.stop[d] = std::uniform_int_distribution<int64_t>(r.start[d] + 1, sizes[d])(rng);
  }
  return r;
}

// A random chain of views (narrow, step, select, transpose, unsqueeze, expand, diagonal)
// over a contiguous base, as a layout.
TensorLayout RandomView(std::mt19937_64& rng, const Shape& base) {
  TensorLayout l = ContiguousLayout(base);
  auto pick = [&](int64_t n) { return std::uniform_int_distribution<int64_t>(0, n - 1)(rng); };
  for (int step = pick(4); step >= 0; --step) {
    const int64_t nd = static_cast<int64_t>(l.sizes.size());
    const int64_t d = pick(nd);
    switch (pick(7)) {
      case 0: {  // narrow
        const int64_t start = pick(l.sizes[d]);
        l.storage_offset += start * l.strides[d];
        l.sizes[d] = 1 + pick(l.sizes[d] - start);
        break;
      }
      case 1:  // every other element
        l.sizes[d] = (l.sizes[d] + 1) / 2;
        l.strides[d] *= 2;
        break;
      case 2:  // select, keeping at least one dim
        if (nd > 1) {
          l.storage_offset += pick(l.sizes[d]) * l.strides[d];
          l.sizes.erase(l.sizes.begin() + d);
          l.strides.erase(l.strides.begin() + d);
        }
        break;
      case 3: {  // transpose
        const int64_t e = pick(nd);
        std::swap(l.sizes[d], l.sizes[e]);
        std::swap(l.strides[d], l.strides[e]);
        break;
      }
      case 4:  // unsqueeze then expand
        l.sizes.insert(l.sizes.begin() + d, 1 + pick(3));
        l.strides.insert(l.strides.begin() + d, 0);
        break;
      case 5: {  // diagonal of two dims
        const int64_t e = pick(nd);
        if (e != d) {
          const int64_t n = std::min(l.sizes[d], l.sizes[e]);
          const int64_t stride = l.strides[d] + l.strides[e];
          const int64_t hi = std::max(d, e), lo = std::min(d, e);
          l.sizes.erase(l.sizes.begin() + hi);
          l.strides.erase(l.strides.begin() + hi);
          l.sizes.erase(l.sizes.begin() + lo);
          l.strides.erase(l.strides.begin() + lo);
          l.sizes.push_back(n);
          l.strides.push_back(stride);
        }
        break;
      }
      default:  // split a contiguous dim in two (a reshape that stays a view)
        if (l.sizes[d] % 2 == 0 && l.sizes[d] > 2) {
          const int64_t n = l.sizes[d] / 2, s = l.strides[d];
          l.sizes[d] = 2;
          l.strides[d] = n * s;
          l.sizes.insert(l.sizes.begin() + d + 1, n);
          l.strides.insert(l.strides.begin() + d + 1, s);
        }
        break;
    }
  }
  return l;
}

TEST(RegionTest, FullSizesAndBoundingUnion) {
  const Region a = Region::Full({3, 4});
  EXPECT_EQ(a.sizes(), (Shape{3, 4}));
  EXPECT_EQ(a.numel(), 12);
  const Region b{{1, 1}, {2, 6}};
  EXPECT_EQ(BoundingUnion(a, b), (Region{{0, 0}, {3, 6}}));
  EXPECT_TRUE(Contains(BoundingUnion(a, b), b));
  EXPECT_FALSE(Contains(a, b));
  EXPECT_EQ(b.ToString(), "[1:2, 1:6]");
}

TEST(RegionTest, ViewTransformsMapRegionsBothWaysForRandomViews) {
  std::mt19937_64 rng(20261129);
  int decomposed = 0;
  for (int trial = 0; trial < 3000; ++trial) {
    SCOPED_TRACE(absl::StrCat("trial ", trial));
    Shape base(1 + rng() % 3);
    for (int64_t& s : base) s = 1 + rng() % 6;
    const TensorLayout view = RandomView(rng, base);
    const std::optional<ViewTransform> t = ViewTransform::Decompose(view, base);
    if (!t) continue;
    ++decomposed;
    // Image: every element of a view region lands inside ImageBounds.
    const Region view_region = RandomRegion(rng, view.sizes);
    const Region image = t->ImageBounds(view_region);
    ForEachIndex(view_region, [&](const Shape& index) {
      ASSERT_TRUE(Inside(image, BaseIndex(view, base, index)));
    });
    // Preimage: every view index landing in a base region lies inside PreimageBounds.
    const Region base_region = RandomRegion(rng, base);
    const Region preimage = t->PreimageBounds(base_region);
    ForEachIndex(Region::Full(view.sizes), [&](const Shape& index) {
      if (Inside(base_region, BaseIndex(view, base, index))) {
        ASSERT_TRUE(Inside(preimage, index));
      }
    });
    // LayoutIn: reading through the restricted layout from a buffer holding only the image
    // gives the same base elements as reading the full base.
    const TensorLayout inner = t->LayoutIn(view_region, image);
    const Shape buffer_strides = ContiguousStrides(image.sizes());
    ForEachIndex(Region::Full(view_region.sizes()), [&](const Shape& local) {
      Shape global = local;
      for (size_t d = 0; d < global.size(); ++d) global[d] += view_region.start[d];
      const Shape base_index = BaseIndex(view, base, global);
      int64_t expected = 0;
      for (size_t k = 0; k < base.size(); ++k) {
        expected += (base_index[k] - image.start[k]) * buffer_strides[k];
      }
      int64_t offset = inner.storage_offset;
      for (size_t d = 0; d < local.size(); ++d) offset += local[d] * inner.strides[d];
      ASSERT_EQ(offset, expected);
    });
  }
  EXPECT_GT(decomposed, 2500);  // the view kinds above nearly always decompose
}

TEST(RegionTest, NumelAndEmptyCountWithoutSizes) {
  EXPECT_EQ((Region{{1, 2}, {3, 5}}).numel(), 6);
  EXPECT_FALSE((Region{{1, 2}, {3, 5}}).empty());
  EXPECT_TRUE((Region{{0, 0}, {3, 0}}).empty());
  EXPECT_EQ((Region{{0, 0}, {3, 0}}).numel(), 0);
  EXPECT_TRUE((Region{{4}, {2}}).empty());  // stop before start: no elements
  EXPECT_EQ((Region{{4}, {2}}).numel(), 0);
  EXPECT_FALSE(Region{}.empty());  // rank 0: one element
  EXPECT_EQ(Region{}.numel(), 1);
  EXPECT_THROW((Region{{0, 0, 0}, {int64_t{1} << 40, int64_t{1} << 40, 1 << 10}}).numel(), Error);
}

// IsWholeStorage holds exactly for layouts that map every index to itself, and then
// LayoutOfRegionIn places every element where ViewTransform::LayoutIn does.
TEST(RegionTest, WholeStorageShortcutsAgreeWithTheViewAlgebra) {
  std::mt19937_64 rng(20261206);
  int whole = 0;
  for (int trial = 0; trial < 3000; ++trial) {
    SCOPED_TRACE(absl::StrCat("trial ", trial));
    Shape base(1 + rng() % 3);
    for (int64_t& s : base) s = 1 + rng() % 4;
    TensorLayout view = trial % 3 == 0 ? ContiguousLayout(base) : RandomView(rng, base);
    if (trial % 6 == 0) {
      for (size_t d = 0; d < base.size(); ++d) {
        if (base[d] == 1) view.strides[d] = 99;  // any stride on a dim of one
      }
    }
    bool identity = view.storage_offset == 0 && view.sizes == base;
    if (identity) {
      ForEachIndex(Region::Full(base), [&](const Shape& index) {
        identity = identity && BaseIndex(view, base, index) == index;
      });
    }
    ASSERT_EQ(IsWholeStorage(view, base), identity);
    if (!identity) continue;
    ++whole;
    const Region buffer = RandomRegion(rng, base);
    const Region region = RandomRegion(rng, buffer.sizes());
    Region inside = region;
    for (size_t d = 0; d < base.size(); ++d) {
      inside.start[d] += buffer.start[d];
      inside.stop[d] += buffer.start[d];
    }
    const TensorLayout shortcut = LayoutOfRegionIn(inside, buffer);
    const TensorLayout general = ViewTransform::Decompose(view, base)->LayoutIn(inside, buffer);
    ASSERT_EQ(shortcut.sizes, general.sizes);
    ForEachIndex(Region::Full(inside.sizes()), [&](const Shape& local) {
      int64_t a = shortcut.storage_offset, b = general.storage_offset;
      for (size_t d = 0; d < local.size(); ++d) {
        a += local[d] * shortcut.strides[d];
        b += local[d] * general.strides[d];
      }
      ASSERT_EQ(a, b);
    });
  }
  EXPECT_GT(whole, 1000);
}

TEST(RegionTest, StrideThatCarriesAcrossBaseDimsDoesNotDecompose) {
  const TensorLayout carrying{{6}, {2}, 1};  // elements 1, 3, 5, 7, 9, 11 of a [3, 4] base
  EXPECT_FALSE(ViewTransform::Decompose(carrying, Shape{3, 4}).has_value());
  const TensorLayout same_row{{2}, {2}, 1};  // elements 1, 3: stays in row 0
  EXPECT_TRUE(ViewTransform::Decompose(same_row, Shape{3, 4}).has_value());
}

}  // namespace
}  // namespace deferred
