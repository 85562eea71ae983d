module example.invalid/ward/bindings/go

go 1.19
