# rnnconvert serve in a static, CGO-free binary on a distroless base.
#   docker build -t rnnkit .
#   docker run -p 8080:8080 -v $PWD/models:/models rnnkit
# serves /models/NAME/VERSION/ (TF Serving's layout) on :8080 (REST: KServe
# v2 and TF Serving) and :8081 (KServe v2 gRPC).
FROM golang:1.25 AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
RUN CGO_ENABLED=0 go build -trimpath -ldflags="-s -w" -o /out/rnnconvert ./cmd/rnnconvert

FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /out/rnnconvert /rnnconvert
EXPOSE 8080 8081
USER nonroot:nonroot
ENTRYPOINT ["/rnnconvert", "serve"]
CMD ["--model-repository", "/models", "--addr", ":8080", "--grpc-addr", ":8081", "--log-format", "json"]
