typedef int vaern_stub_store_audit;
