// SPDX-License-Identifier: GPL-2.0-or-later
// The sitelink_cloud module's entry point: everything that needs libcurl,
// pugixml, yaml-cpp or OpenSSL's signing runs behind it.
#include <exception>
#include <unistd.h>

#include "cloud_api.hpp"
#include "sitelink/clock.hpp"
#include "sitelink/module.hpp"
#include "source_aws.hpp"
#include "source_azure.hpp"
#include "source_gcp.hpp"
#include "source_openstack.hpp"
#include "source_vcd.hpp"

namespace sitelink::vpn::cloud {

namespace {

Reply run(const Request& req) noexcept
{
  Reply failed;
  failed.status = Reply::Status::Failed;
  try {
    ProcessEnvironment env;
    RealFileSystem fs;
    const Deadline& deadline = req.deadline;
    HttpClientOptions opts;
    opts.cacert = req.cacert;
    opts.insecure = req.insecure;
    if (req.backend == Backend::OpenStack && opts.cacert.empty()) {
      if (auto a = openstack::resolve_auth(env, fs, req.os_cloud)) opts.cacert = a->cacert;
    } else if (opts.cacert.empty() &&
               (req.backend == Backend::Aws || req.backend == Backend::AwsRoute || req.backend == Backend::AwsEip)) {
      // As the AWS CLI and SDKs: a private CA (TLS-inspecting proxy, VPC
      // endpoint with an internal certificate) comes from AWS_CA_BUNDLE.
      if (auto b = env.get("AWS_CA_BUNDLE")) {
        if (::access(b->c_str(), R_OK) != 0) {
          failed.error = "cannot read the CA bundle named by AWS_CA_BUNDLE: " + *b;
          return failed;
        }
        opts.cacert = *b;
      }
    }
    auto http = make_curl_client(opts);
    const double now = SystemClock().now();
    switch (req.backend) {
    case Backend::Aws: return aws::run_vpn(req, env, fs, *http, deadline, now);
    case Backend::AwsRoute: return aws::run_route(req, env, fs, *http, deadline, now);
    case Backend::AwsEip: return aws::run_eip(req, env, fs, *http, deadline, now);
    case Backend::OpenStack: return openstack::run(req, env, fs, *http, deadline);
    case Backend::Azure: return azure::run(req, env, fs, *http, deadline, now);
    case Backend::Gcp: return gcp::run(req, env, fs, *http, deadline, now);
    case Backend::Vcd: return vcd::run(req, env, fs, *http, deadline);
    }
    failed.error = "unknown cloud backend";
  } catch (const std::exception& e) {
    failed.error = std::string("internal error in the cloud module: ") + e.what();
  } catch (...) {
    failed.error = "internal error in the cloud module";
  }
  return failed;
}

const ModuleTable table{cloud_abi, &run};

} // namespace

} // namespace sitelink::vpn::cloud

SITELINK_MODULE_ENTRY(sitelink_cloud_module_v1, sitelink::vpn::cloud::ModuleTable, sitelink::vpn::cloud::table)
