typedef int vaern_stub_ids;
