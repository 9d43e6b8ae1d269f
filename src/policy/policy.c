typedef int vaern_stub_policy;
