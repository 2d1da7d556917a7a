# Sends one signed conversion postback to the gateway. Ruby standard library only.
require "json"
require "net/http"
require "openssl"

GATEWAY_URL = ENV.fetch("GATEWAY_URL", "http://localhost:8080")
SURFACE_ID = ENV.fetch("SURFACE_ID", "demo")
SECRET = ENV["SURFACE_SECRET"] or abort "SURFACE_SECRET is required"

def send_postback(conversion)
  body = JSON.generate(conversion) # sign exactly the bytes you send
  timestamp = Process.clock_gettime(Process::CLOCK_REALTIME, :millisecond).to_s # Unix milliseconds
  signature = OpenSSL::HMAC.hexdigest("SHA256", SECRET, "#{timestamp}.#{body}")
  Net::HTTP.post(URI("#{GATEWAY_URL}/v1/conversions"), body,
                 "content-type" => "application/json",
                 "x-ea-surface" => SURFACE_ID,
                 "x-ea-timestamp" => timestamp,
                 "x-ea-signature" => signature)
end

response = send_postback(
  externalId: ENV.fetch("EXTERNAL_ID") { "order-#{Process.clock_gettime(Process::CLOCK_REALTIME, :millisecond)}" }, # your order id
  eventType: "sale",
  grossMinor: 4999,
  currency: "USD"
)
puts "#{response.code} #{response.body}"
exit(response.is_a?(Net::HTTPSuccess) ? 0 : 1)
