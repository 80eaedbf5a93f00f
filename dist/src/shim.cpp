// The C side of clipstream-dist: a TCPStore rendezvous and a c10d backend (ProcessGroupGloo, or ProcessGroupNCCL
// when built with CUDA headers) behind plain C functions. Tensors come from tch as `at::Tensor*` (what tch's
// C_tensor is); every collective copies the at::Tensor handle, so the storage stays alive while work is in flight.
// Every C++ exception becomes an error string (malloc'ed; the caller frees it with cs_free_error).

#include <torch/csrc/distributed/c10d/ProcessGroupGloo.hpp>
#include <torch/csrc/distributed/c10d/TCPStore.hpp>
#ifdef CLIPSTREAM_NCCL
#include <torch/csrc/distributed/c10d/ProcessGroupNCCL.hpp>
#endif

#include <cstdlib>
#include <cstring>
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
      auto gloo = c10d::ProcessGroupGloo::Options::create_default(timeout);
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

}  // extern "C"
