// The C side of clipstream-dist: a TCPStore rendezvous and a c10d backend (ProcessGroupGloo, or ProcessGroupNCCL
// when built with CUDA headers) behind plain C functions. Tensors come from tch as `at::Tensor*` (what tch's
// C_tensor is); every collective copies the at::Tensor handle, so the storage stays alive while work is in flight.
// Every C++ exception becomes an error string (malloc'ed; the caller frees it with cs_free_error).

#include <torch/csrc/distributed/c10d/ProcessGroupGloo.hpp>
#include <torch/csrc/distributed/c10d/TCPStore.hpp>
#ifdef CLIPSTREAM_NCCL
#include <torch/csrc/distributed/c10d/ProcessGroupNCCL.hpp>
#endif

#include <torch/csrc/autograd/utils/lambda_post_hook.h>
#include <torch/csrc/autograd/variable.h>

#include <cstdlib>
#include <cstring>
#include <mutex>
#include <string>
#include <vector>

struct cs_group {
  c10::intrusive_ptr<c10d::Store> store;
  c10::intrusive_ptr<c10d::Backend> backend;
};

struct cs_work {
  c10::intrusive_ptr<c10d::Work> work;
};

static char* copy_message(const char* message) {
  size_t n = std::strlen(message);
  char* out = static_cast<char*>(std::malloc(n + 1));
  if (out != nullptr) {
    std::memcpy(out, message, n + 1);
  }
  return out;
}

#define CS_TRY(err, failed)                          \
  catch (const c10::Error& e) {                      \
    *err = copy_message(e.what_without_backtrace()); \
    return failed;                                   \
  }                                                  \
  catch (const std::exception& e) {                  \
    *err = copy_message(e.what());                   \
    return failed;                                   \
  }                                                  \
  catch (...) {                                      \
    *err = copy_message("unknown C++ exception");    \
    return failed;                                   \
  }

static cs_work* started(c10::intrusive_ptr<c10d::Work> work) {
  return new cs_work{std::move(work)};
}

// Gradient sums that start during the backward pass (what DDP's Reducer does): a post hook on every parameter's
// gradient accumulator marks it ready; a bucket is all-reduced (summed) as soon as all its parameters are ready
// and every bucket before it has started, so buckets start in the same order on every rank, whatever order the
// hooks fire in. finish() starts what is left (a parameter without a gradient counts as zeros), waits, copies the
// sums back into the gradients and rearms. After the first step the buckets are rebuilt in the order rank 0's
// gradients became ready (broadcast), so later steps start the first bucket early in the backward pass.
struct cs_sync {
  c10::intrusive_ptr<c10d::Backend> backend;
  std::vector<at::Tensor> params;
  int64_t bucket_bytes;
  std::vector<std::vector<size_t>> buckets;
  std::vector<size_t> bucket_of;
  std::vector<size_t> pending;
  std::vector<bool> ready;
  std::vector<at::Tensor> flats;
  std::vector<c10::intrusive_ptr<c10d::Work>> works;
  size_t next = 0;
  size_t started_early = 0;  // buckets the hooks started during this step's backward pass
  std::vector<int64_t> ready_order;
  bool rebuilt = false;
  std::string error;
  std::mutex mutex;
  std::vector<std::pair<std::shared_ptr<torch::autograd::Node>, uintptr_t>> hooks;

  void assign(const std::vector<size_t>& order) {
    buckets.clear();
    bucket_of.assign(params.size(), 0);
    int64_t bytes = 0;
    for (size_t i : order) {
      int64_t size = params[i].numel() * static_cast<int64_t>(params[i].element_size());
      if (buckets.empty() || (!buckets.back().empty() && bytes + size > bucket_bytes)) {
        buckets.emplace_back();
        bytes = 0;
      }
      buckets.back().push_back(i);
      bucket_of[i] = buckets.size() - 1;
      bytes += size;
    }
    rearm();
  }

  void rearm() {
    pending.clear();
    for (auto& bucket : buckets) pending.push_back(bucket.size());
    ready.assign(params.size(), false);
    flats.assign(buckets.size(), at::Tensor());
    works.assign(buckets.size(), c10::intrusive_ptr<c10d::Work>());
    next = 0;
    started_early = 0;
    ready_order.clear();
  }

  at::Tensor gradient(size_t i) {
    const at::Tensor& grad = params[i].grad();
    return grad.defined() ? grad.detach().reshape({-1}) : at::zeros({params[i].numel()}, params[i].options());
  }

  // Starts bucket `next` and every following bucket that is complete. Called with the mutex held.
  void launch_ready(bool all) {
    while (next < buckets.size() && (all || pending[next] == 0)) {
      std::vector<at::Tensor> parts;
      for (size_t i : buckets[next]) parts.push_back(gradient(i));
      flats[next] = at::cat(parts);
      std::vector<at::Tensor> tensors{flats[next]};
      c10d::AllreduceOptions options;
      options.reduceOp = c10d::ReduceOp::SUM;
      works[next] = backend->allreduce(tensors, options);
      next += 1;
      if (!all) started_early += 1;
    }
  }

  void on_ready(size_t i) {
    std::lock_guard<std::mutex> lock(mutex);
    if (!error.empty()) return;
    try {
      if (ready[i]) {
        error = "parameter " + std::to_string(i) +
                " received a second gradient in one step after its bucket was marked ready";
        return;
      }
      ready[i] = true;
      ready_order.push_back(static_cast<int64_t>(i));
      pending[bucket_of[i]] -= 1;
      launch_ready(false);
    } catch (const std::exception& e) {
      error = e.what();
    }
  }

  // Returns how many buckets the hooks had started.
  size_t finish() {
    std::lock_guard<std::mutex> lock(mutex);
    if (!error.empty()) {
      std::string message = error;
      error.clear();
      rearm();
      throw std::runtime_error(message);
    }
    size_t early = started_early;
    launch_ready(true);
    for (size_t b = 0; b < buckets.size(); b++) {
      works[b]->wait();
      int64_t at = 0;
      for (size_t i : buckets[b]) {
        int64_t n = params[i].numel();
        at::Tensor grad = params[i].grad();
        if (grad.defined()) {
          at::NoGradGuard no_grad;
          grad.copy_(flats[b].narrow(0, at, n).view_as(grad));
        }
        at += n;
      }
    }
    if (!rebuilt) {
      rebuilt = true;
      // Rank 0's readiness order, then the parameters that got no gradient, in their given order.
      std::vector<int64_t> order = ready_order;
      std::vector<bool> seen(params.size(), false);
      for (int64_t i : order) seen[static_cast<size_t>(i)] = true;
      for (size_t i = 0; i < params.size(); i++)
        if (!seen[i]) order.push_back(static_cast<int64_t>(i));
      at::Tensor shared = at::tensor(order, at::kLong).to(params[0].device());
      std::vector<at::Tensor> tensors{shared};
      c10d::BroadcastOptions options;
      options.rootRank = 0;
      backend->broadcast(tensors, options)->wait();
      at::Tensor cpu = shared.cpu().contiguous();
      const int64_t* values = cpu.data_ptr<int64_t>();
      std::vector<size_t> rebuilt_order(values, values + cpu.numel());
      assign(rebuilt_order);
    } else {
      rearm();
    }
    return early;
  }
};

extern "C" {

void cs_free_error(char* err) { std::free(err); }

int cs_has_nccl() {
#ifdef CLIPSTREAM_NCCL
  return 1;
#else
  return 0;
#endif
}

cs_group* cs_group_new(const char* backend, const char* host, uint16_t port, int rank, int world, int64_t timeout_ms,
                       char** err) {
  try {
    auto timeout = std::chrono::milliseconds(timeout_ms);
    c10d::TCPStoreOptions options;
    options.port = port;
    options.isServer = rank == 0;
    options.numWorkers = static_cast<size_t>(world);
    options.waitWorkers = true;
    options.timeout = timeout;
    auto store = c10::make_intrusive<c10d::TCPStore>(std::string(host), options);
    c10::intrusive_ptr<c10d::Backend> group;
    if (std::strcmp(backend, "gloo") == 0) {
      // As torch.distributed does: GLOO_SOCKET_IFNAME (comma-separated interfaces) picks the network devices,
      // else the address this host's name resolves to (loopback when it resolves to nothing).
      auto gloo = c10d::ProcessGroupGloo::Options::create(timeout);
      const char* interfaces = std::getenv("GLOO_SOCKET_IFNAME");
      if (interfaces != nullptr && interfaces[0] != '\0') {
        std::string list(interfaces);
        size_t start = 0;
        while (start <= list.size()) {
          size_t end = list.find(',', start);
          if (end == std::string::npos) end = list.size();
          if (end > start) {
            gloo->devices.push_back(c10d::ProcessGroupGloo::createDeviceForInterface(list.substr(start, end - start)));
          }
          start = end + 1;
        }
      }
      if (gloo->devices.empty()) {
        gloo->devices.push_back(c10d::ProcessGroupGloo::createDefaultDevice());
      }
      group = c10::make_intrusive<c10d::ProcessGroupGloo>(store, rank, world, gloo);
    } else if (std::strcmp(backend, "nccl") == 0) {
#ifdef CLIPSTREAM_NCCL
      auto nccl = c10d::ProcessGroupNCCL::Options::create();
      nccl->timeout = timeout;
      group = c10::make_intrusive<c10d::ProcessGroupNCCL>(store, rank, world, nccl);
#else
      throw std::runtime_error(
          "this clipstream-torch was built without the CUDA/NCCL headers (scripts/setup installs them): "
          "use the gloo backend or rebuild");
#endif
    } else {
      throw std::runtime_error(std::string("unknown backend ") + backend);
    }
    return new cs_group{store, group};
  }
  CS_TRY(err, nullptr)
}

void cs_group_free(cs_group* group) { delete group; }

cs_work* cs_broadcast(cs_group* group, const at::Tensor* tensor, int root, char** err) {
  try {
    std::vector<at::Tensor> tensors{*tensor};
    c10d::BroadcastOptions options;
    options.rootRank = root;
    return started(group->backend->broadcast(tensors, options));
  }
  CS_TRY(err, nullptr)
}

cs_work* cs_all_reduce_sum(cs_group* group, const at::Tensor* tensor, char** err) {
  try {
    std::vector<at::Tensor> tensors{*tensor};
    c10d::AllreduceOptions options;
    options.reduceOp = c10d::ReduceOp::SUM;
    return started(group->backend->allreduce(tensors, options));
  }
  CS_TRY(err, nullptr)
}

// `output` is [world * n, ...] (contiguous, first dimension split evenly); rank r's `input` lands in chunk r.
cs_work* cs_all_gather(cs_group* group, const at::Tensor* input, const at::Tensor* output, int world, char** err) {
  try {
    std::vector<at::Tensor> inputs{*input};
    std::vector<std::vector<at::Tensor>> outputs{output->chunk(world, 0)};
    return started(group->backend->allgather(outputs, inputs));
  }
  CS_TRY(err, nullptr)
}

cs_work* cs_barrier(cs_group* group, char** err) {
  try {
    return started(group->backend->barrier());
  }
  CS_TRY(err, nullptr)
}

// Waits for `work` and frees it; 0 on success, -1 with *err set.
int cs_work_wait(cs_work* work, char** err) {
  try {
    std::unique_ptr<cs_work> owned(work);
    owned->work->wait();
    return 0;
  }
  CS_TRY(err, -1)
}

void cs_work_free(cs_work* work) { delete work; }

// Installs the gradient hooks on `params` (the same parameters in the same order on every rank).
cs_sync* cs_sync_new(cs_group* group, const at::Tensor* const* params, size_t n, int64_t bucket_bytes, char** err) {
  try {
    if (n == 0) throw std::runtime_error("no parameter to synchronise");
    auto sync = std::make_unique<cs_sync>();
    sync->backend = group->backend;
    sync->bucket_bytes = bucket_bytes;
    for (size_t i = 0; i < n; i++) sync->params.push_back(*params[i]);
    std::vector<size_t> order;
    for (size_t i = n; i > 0; i--) order.push_back(i - 1);  // backward runs roughly in reverse: DDP's first guess
    sync->assign(order);
    cs_sync* raw = sync.get();
    for (size_t i = 0; i < n; i++) {
      auto accumulator = torch::autograd::impl::grad_accumulator(raw->params[i]);
      if (!accumulator) throw std::runtime_error("parameter " + std::to_string(i) + " is not a leaf that requires grad");
      auto key = accumulator->add_post_hook(std::make_unique<torch::autograd::utils::LambdaPostHook>(
          [raw, i](const torch::autograd::variable_list& outputs, const torch::autograd::variable_list&) {
            raw->on_ready(i);
            return outputs;
          }));
      raw->hooks.emplace_back(accumulator, key);
    }
    return sync.release();
  }
  CS_TRY(err, nullptr)
}

// Starts the buckets not started yet, waits for all, writes the sums into the gradients, rearms. `early` and
// `total`: the buckets the hooks had started during the backward pass, and all of them.
int cs_sync_finish(cs_sync* sync, int64_t* early, int64_t* total, char** err) {
  try {
    *total = static_cast<int64_t>(sync->buckets.size());
    *early = static_cast<int64_t>(sync->finish());
    return 0;
  }
  CS_TRY(err, -1)
}

void cs_sync_free(cs_sync* sync) {
  for (auto& [accumulator, key] : sync->hooks) accumulator->del_post_hook(key);
  delete sync;
}

}  // extern "C"
