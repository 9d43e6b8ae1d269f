typedef int vaern_stub_audit;
